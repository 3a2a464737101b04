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

/**
 * An honest reading of a comparison table: who had the lowest held-out loss, each method against the
 * baseline (eval loss, exact match, time per step, trainable parameters), and whether the spread is
 * large enough to mean anything at this scale.
 *
 * @param rows The rows of {@linkcode compareRuns}.
 * @param options `baseline` (default "lora"); `tie`: relative spread of eval loss below which the methods tie (default 0.05).
 * @returns Sentences, computed from the rows.
 *
 * @example
 * ```ts
 * import { describeComparison } from "./compare_runs.ts";
 * const row = (name: string, loss: number) => ({ name, method: name, ok: true, trainableParams: 100, secondsPerStep: 0.2,
 *   peakMemoryBytes: 1e9, finalTrainLoss: 2, finalEvalLoss: loss, exactMatch: 0.5, runDir: "runs/x" });
 * console.log(describeComparison([row("lora", 3), row("dora", 3.03)]).at(-1));
 * // The final eval losses are within 1.0% of each other: at this scale the methods tie.
 * ```
 */
export function describeComparison(
  rows: readonly ComparisonRow[],
  options: { baseline?: string; tie?: number } = {},
): string[] {
  const baseline = rows.find((r) => r.name === (options.baseline ?? "lora")) ?? rows[0];
  const done = rows.filter((r) => r.finalEvalLoss !== null);
  if (!baseline || !done.length) {
    return ["No run reported a held-out loss: set train.evalEvery and an eval dataset."];
  }
  const byLoss = [...done].sort((a, b) => a.finalEvalLoss! - b.finalEvalLoss!);
  const pct = (x: number | null, base: number | null) =>
    x === null || base === null || base === 0
      ? "n/a"
      : `${x >= base ? "+" : ""}${(((x - base) / base) * 100).toFixed(1)}%`;
  const em = (r: ComparisonRow) => r.exactMatch === null ? "n/a" : `${Math.round(r.exactMatch * 100)}%`;
  const lines = [
    `Lowest held-out loss: ${byLoss[0].name} (${byLoss[0].finalEvalLoss!.toFixed(3)}); highest: ${
      byLoss.at(-1)!.name
    } (${byLoss.at(-1)!.finalEvalLoss!.toFixed(3)}).`,
    ...rows.filter((r) => r !== baseline).map((r) =>
      `${r.name} vs ${baseline.name}: eval loss ${
        pct(r.finalEvalLoss, baseline.finalEvalLoss)
      }, exact match ${em(r)} vs ${em(baseline)}, time per step ${
        pct(r.secondsPerStep, baseline.secondsPerStep)
      }, trainable params ${pct(r.trainableParams, baseline.trainableParams)}.`
    ),
  ];
  const spread = (byLoss.at(-1)!.finalEvalLoss! - byLoss[0].finalEvalLoss!) / byLoss[0].finalEvalLoss!;
  lines.push(
    spread < (options.tie ?? 0.05)
      ? `The final eval losses are within ${
        (spread * 100).toFixed(1)
      }% of each other: at this scale the methods tie.`
      : `The final eval losses differ by up to ${
        (spread * 100).toFixed(1)
      }%: a real difference for this model, data and budget.`,
  );
  return lines;
}
