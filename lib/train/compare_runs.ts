/**
 * Comparing methods fairly: the same data, seed and budget, one run after another.
 *
 * @module
 */
import type { RunConfigInput } from "./run_config.ts";
import { type RunResult, trainRun, type TrainRunOptions } from "./train_run.ts";
import type { TrainEvent } from "./events.ts";

/** One row of the comparison table. */
export interface ComparisonRow {
  name: string;
  method: string;
  ok: boolean;
  trainableParams: number | null;
  secondsPerStep: number | null;
  peakMemoryBytes: number | null;
  finalTrainLoss: number | null;
  finalEvalLoss: number | null;
  exactMatch: number | null;
  runDir: string;
}

/**
 * The table row of a finished run.
 *
 * @param name The variant's name.
 * @param run The run.
 * @returns Its row.
 *
 * @example
 * ```ts ignore
 * const row = summarizeRun("lora", await trainRun(config));
 * ```
 */
export function summarizeRun(
  name: string,
  run: Pick<RunResult, "events" | "config" | "dir" | "ok">,
): ComparisonRow {
  const find = <K extends TrainEvent["event"]>(k: K) =>
    run.events.filter((e) => e.event === k) as Extract<TrainEvent, { event: K }>[];
  const start = find("start")[0], end = find("end")[0], evals = find("eval"), steps = find("step");
  return {
    name,
    method: run.config.method,
    ok: run.ok,
    trainableParams: start?.trainable_params ?? null,
    secondsPerStep: end && end.steps ? end.train_seconds / end.steps : null,
    peakMemoryBytes: end?.peak_memory_bytes ?? steps.at(-1)?.peak_memory_bytes ?? null,
    finalTrainLoss: steps.at(-1)?.loss ?? null,
    finalEvalLoss: evals.at(-1)?.eval_loss ?? null,
    exactMatch: evals.at(-1)?.exact_match ?? null,
    runDir: run.dir,
  };
}

function _merge(base: RunConfigInput, patch: Partial<RunConfigInput>): RunConfigInput {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = (base as Record<string, unknown>)[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && b && typeof b === "object"
      ? { ...b, ...v }
      : v;
  }
  return out as RunConfigInput;
}

/**
 * Runs each variant (a patch over `base`) one after another and tabulates them.
 *
 * @param base The shared config: model, data, seed, budget.
 * @param variants Name → what differs, e.g. `{ dora: { method: "dora" } }`.
 * @param options As for `trainRun`; `onEvent` also gets the variant's name.
 * @returns One row per variant, in order.
 *
 * @example LoRA vs DoRA vs PiSSA
 * ```ts ignore
 * import { compareRuns } from "./compare_runs.ts";
 * const rows = await compareRuns(base, { lora: {}, dora: { method: "dora" }, pissa: { method: "pissa" } });
 * console.table(rows);
 * ```
 */
export async function compareRuns(
  base: RunConfigInput,
  variants: Record<string, Partial<RunConfigInput>>,
  options: Omit<TrainRunOptions, "onEvent" | "runId"> & {
    onEvent?: (name: string, e: TrainEvent) => void | Promise<void>;
  } = {},
): Promise<ComparisonRow[]> {
  const rows: ComparisonRow[] = [];
  for (const [name, patch] of Object.entries(variants)) {
    if (options.signal?.aborted) break;
    const run = await trainRun(_merge(base, patch), {
      ...options,
      onEvent: (e) => options.onEvent?.(name, e),
    });
    rows.push(summarizeRun(name, run));
  }
  return rows;
}
