/**
 * Comparing methods fairly: the same data, seed and budget, one run after another.
 *
 * @module
 */
import type { RunConfigInput } from "./run_config.ts";
import { type ConfigPatch, withPatch } from "./recipes.ts";
import { type RunResult, type TrainRunOptions, trainRuns } from "./train_run.ts";
import { eventsOf, type TrainEvent } from "./events.ts";

/** One row of the comparison table. */
export interface ComparisonRow {
  name: string;
  method: string;
  /** The run's seed (`train.seed`). */
  seed: number;
  ok: boolean;
  trainableParams: number | null;
  /** Wall time of the whole training loop ÷ steps: includes evaluation, exact-match generation and saving. */
  secondsPerStep: number | null;
  /** Mean time of one optimizer step alone (forward, backward, update); null for older recorded runs. */
  trainSecondsPerStep: number | null;
  /** Seconds spent evaluating (held-out loss and exact-match generation), not counted in `trainSecondsPerStep`. */
  evalSeconds: number | null;
  /** Compatibility: GPU allocator peak on a GPU, process peak RSS on a CPU. */
  peakMemoryBytes: number | null;
  /** The allocator's peak of live tensor bytes (GPU: max_memory_allocated; CPU: PyTorch's MemTracker). */
  peakAllocatedBytes: number | null;
  /** The trainer process's resident memory (RSS) — mostly PyTorch itself on a small model. */
  peakRssBytes: number | null;
  /** Seconds the adapter's initialisation took (PiSSA's SVDs, …). */
  initSeconds: number | null;
  /** The allocator peak by kind (parameters, gradients, optimizer_state, activations, …), when measured. */
  memoryBreakdown: Record<string, number> | null;
  finalTrainLoss: number | null;
  finalEvalLoss: number | null;
  exactMatch: number | null;
  /** How many held-out examples `exactMatch` was measured on (for its binomial interval). */
  exactMatchExamples: number | null;
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
 * import { summarizeRun } from "./compare_runs.ts";
 * import { numbersRecipe } from "./recipes.ts";
 * import { trainRun } from "./train_run.ts";
 * const row = summarizeRun("lora", await trainRun(numbersRecipe()));
 * ```
 */
export function summarizeRun(
  name: string,
  run: Pick<RunResult, "events" | "config" | "dir" | "ok">,
): ComparisonRow {
  const start = eventsOf(run.events, "start")[0], end = eventsOf(run.events, "end")[0];
  const evals = eventsOf(run.events, "eval"), steps = eventsOf(run.events, "step");
  const exactMatch = evals.at(-1)?.exactMatch ?? null;
  return {
    name,
    method: run.config.method,
    seed: run.config.train.seed,
    ok: run.ok,
    trainableParams: start?.trainableParams ?? null,
    secondsPerStep: end && end.steps ? end.trainSeconds / end.steps : null,
    trainSecondsPerStep: end?.secondsPerStep ?? null,
    evalSeconds: end?.evalSeconds ?? null,
    peakMemoryBytes: end?.peakMemoryBytes ?? steps.at(-1)?.peakMemoryBytes ?? null,
    peakAllocatedBytes: end?.peakAllocatedBytes ?? null,
    peakRssBytes: end?.peakRssBytes ?? null,
    initSeconds: start?.initSeconds ?? null,
    memoryBreakdown: end?.memoryBreakdown ?? null,
    finalTrainLoss: steps.at(-1)?.loss ?? null,
    finalEvalLoss: evals.at(-1)?.evalLoss ?? null,
    exactMatch,
    exactMatchExamples: exactMatch === null || !start
      ? null
      : Math.min(start.evalExamples, run.config.eval.maxExamples),
    runDir: run.dir,
  };
}

/** Options for {@linkcode compareRuns}. */
export interface CompareRunsOptions extends Omit<TrainRunOptions, "onEvent" | "runId"> {
  /** Run every variant once per seed (default: the base's `train.seed` only). */
  seeds?: number[];
  /** Every event, with the variant's name and the run's seed. */
  onEvent?: (name: string, e: TrainEvent, seed: number) => void | Promise<void>;
}

/**
 * Runs each variant (a patch over `base`) — once per seed with `seeds` — and tabulates them. All runs
 * go through one trainer process (see `trainBatch`), variant by variant, seeds inside.
 *
 * @param base The shared config: model, data, seed, budget.
 * @param variants Name → what differs, e.g. `{ dora: { adapter: "dora" } }`.
 * @param options As for `trainRun`, plus `seeds`; `onEvent` also gets the variant's name and seed.
 * @returns One row per variant and seed, in order (variant-major).
 *
 * @example LoRA vs DoRA vs PiSSA, three seeds each
 * ```ts ignore
 * import { compareRuns } from "./compare_runs.ts";
 * import { summarizeSeeds } from "./seed_summary.ts";
 * import { numbersRecipe } from "./recipes.ts";
 * const base = numbersRecipe({ train: { maxSteps: 100 } });
 * const rows = await compareRuns(base, { lora: {}, dora: { adapter: "dora" }, pissa: { init: "pissa" } }, { seeds: [0, 1, 2] });
 * console.table(summarizeSeeds(rows));
 * ```
 */
export async function compareRuns(
  base: RunConfigInput,
  variants: Record<string, ConfigPatch>,
  options: CompareRunsOptions = {},
): Promise<ComparisonRow[]> {
  const { seeds, onEvent, ...rest } = options;
  const plan: { name: string; config: RunConfigInput; seed: number }[] = [];
  for (const [name, patch] of Object.entries(variants)) {
    const config = withPatch(base, patch);
    for (const seed of seeds ?? [config.train?.seed ?? 42]) {
      plan.push({ name, seed, config: withPatch(config, { train: { ...config.train, seed } }) });
    }
  }
  const runs: RunResult[] = await trainRuns(plan.map((p) => p.config), {
    ...rest,
    onEvent: (e, i) => onEvent?.(plan[i].name, e, plan[i].seed),
  });
  return runs.map((run, i) => summarizeRun(plan[i].name, run));
}

/**
 * Stops a lesson at a failed run, naming each (variant, seed and folder; its `stderr.log` says why).
 *
 * @param rows Rows of {@linkcode compareRuns}.
 * @throws {Error} When any run failed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertRunsOk } from "./compare_runs.ts";
 * assert.throws(() => assertRunsOk([{ name: "dora", seed: 1, ok: false, runDir: "runs/x" }]), /dora seed 1 \(runs\/x\)/);
 * ```
 */
export function assertRunsOk(rows: readonly Pick<ComparisonRow, "name" | "seed" | "ok" | "runDir">[]): void {
  const failed = rows.filter((r) => !r.ok);
  if (failed.length) {
    throw new Error(
      `Runs failed: ${failed.map((r) => `${r.name} seed ${r.seed} (${r.runDir})`).join(", ")}. ` +
        `Each folder's stderr.log and events.jsonl say why.`,
    );
  }
}
