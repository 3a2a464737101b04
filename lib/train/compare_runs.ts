/**
 * Comparing methods fairly: the same data, seed and budget, one run after another.
 *
 * @module
 */
import type { RunConfigInput } from "./run_config.ts";
import { type ConfigPatch, withPatch } from "./recipes.ts";
import { type RunResult, type TrainRunOptions, trainRuns } from "./train_run.ts";
import { eventsOf, type TrainEvent } from "./events.ts";
import { describeSeeds, summarizeSeeds } from "./seed_summary.ts";
import { binomialInterval, formatRate, intervalsDisjoint } from "../eval/binomial.ts";

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
 * An honest reading of a comparison table. With several seeds per variant it is {@linkcode describeSeeds}'s:
 * a difference is real only when it exceeds the seed-to-seed spread. With one seed it states each method
 * against the baseline (held-out loss, exact match with its 95 % binomial interval, time per training
 * step, trainable parameters) and says that one seed cannot tell a difference from noise — it never calls
 * a single-seed result a tie or a real difference.
 *
 * @param rows The rows of {@linkcode compareRuns}.
 * @param options `baseline`: the variant the others are read against (default "lora", else the first).
 * @returns Sentences, computed from the rows.
 *
 * @example One seed: the numbers, and no verdict
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeComparison } from "./compare_runs.ts";
 * const row = (name: string, loss: number, seed = 0) => ({ name, method: name, seed, ok: true, trainableParams: 100,
 *   secondsPerStep: 0.2, trainSecondsPerStep: 0.1, evalSeconds: 1, peakMemoryBytes: 1e9, peakAllocatedBytes: null,
 *   peakRssBytes: null, initSeconds: 0, memoryBreakdown: null, finalTrainLoss: 2, finalEvalLoss: loss,
 *   exactMatch: 0.5, exactMatchExamples: 60, runDir: "runs/x" });
 * assert.match(describeComparison([row("lora", 3), row("dora", 2.5)]).at(-1)!, /One seed per method/);
 * const seeds = [0, 1, 2].flatMap((s) => [row("lora", 3 + s / 100, s), row("dora", 2.5 + s / 100, s)]);
 * assert.match(describeComparison(seeds).join(" "), /lower, by more than the seed-to-seed spread/);
 * ```
 */
export function describeComparison(
  rows: readonly ComparisonRow[],
  options: { baseline?: string } = {},
): string[] {
  const baselineName = options.baseline ?? (rows.some((r) => r.name === "lora") ? "lora" : rows[0]?.name);
  const ok = rows.filter((r) => r.ok);
  const seedsOf = (name: string) => ok.filter((r) => r.name === name).length;
  if (ok.some((r) => seedsOf(r.name) > 1)) {
    return describeSeeds(summarizeSeeds(rows), { baseline: baselineName });
  }
  const baseline = ok.find((r) => r.name === baselineName) ?? ok[0];
  const done = ok.filter((r) => r.finalEvalLoss !== null);
  if (!baseline || !done.length) {
    return ["No run reported a held-out loss: set train.evalEvery and an eval dataset."];
  }
  const byLoss = [...done].sort((a, b) => a.finalEvalLoss! - b.finalEvalLoss!);
  const pct = (x: number | null, base: number | null) =>
    x === null || base === null || base === 0
      ? "n/a"
      : `${x >= base ? "+" : ""}${(((x - base) / base) * 100).toFixed(1)}%`;
  const hits = (r: ComparisonRow) =>
    r.exactMatch === null || !r.exactMatchExamples
      ? null
      : { k: Math.round(r.exactMatch * r.exactMatchExamples), n: r.exactMatchExamples };
  const em = (r: ComparisonRow) => {
    const h = hits(r);
    return h ? formatRate(h.k, h.n) : r.exactMatch === null ? "n/a" : `${Math.round(r.exactMatch * 100)}%`;
  };
  const emApart = (r: ComparisonRow) => {
    const a = hits(r), b = hits(baseline);
    if (!a || !b) return "";
    const apart = intervalsDisjoint(binomialInterval(a.k, a.n), binomialInterval(b.k, b.n));
    return apart
      ? " (the 95% intervals do not overlap)"
      : " (the 95% intervals overlap: no difference shown)";
  };
  return [
    `Lowest held-out loss: ${byLoss[0].name} (${byLoss[0].finalEvalLoss!.toFixed(3)}); highest: ${
      byLoss.at(-1)!.name
    } (${byLoss.at(-1)!.finalEvalLoss!.toFixed(3)}).`,
    ...ok.filter((r) => r !== baseline).map((r) =>
      `${r.name} vs ${baseline.name}: held-out loss ${
        pct(r.finalEvalLoss, baseline.finalEvalLoss)
      }, exact match ${em(r)} vs ${em(baseline)}${emApart(r)}, time per training step ${
        pct(
          r.trainSecondsPerStep ?? r.secondsPerStep,
          baseline.trainSecondsPerStep ?? baseline.secondsPerStep,
        )
      }, trainable params ${pct(r.trainableParams, baseline.trainableParams)}.`
    ),
    `One seed per method: how much the held-out loss moves from seed to seed is unknown, so no difference ` +
    `above can be called real, nor a tie. Run compareRuns with seeds (e.g. [0, 1, 2]) to find out.`,
  ];
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
