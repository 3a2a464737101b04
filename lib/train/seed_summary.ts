/**
 * Reading a comparison honestly: several seeds per method give the mean ± standard deviation of each
 * metric, whether a difference exceeds the seed-to-seed noise, and the table a lesson shows; one seed gives
 * the numbers without a verdict ({@linkcode describeComparison}).
 *
 * @module
 */
import type { ComparisonRow } from "./compare_runs.ts";
import { exceedsNoise, formatMeanSd, type MeanSd, meanSd } from "../math/stats.ts";
import { binomialInterval, formatRate, intervalsDisjoint, type RateInterval } from "../eval/binomial.ts";

/** One variant over its seeds: mean ± sd of each metric (null where no run reported it). */
export interface SeedSummary {
  name: string;
  method: string;
  /** Seeds that finished. */
  seeds: number[];
  /** Runs that failed. */
  failed: number;
  trainableParams: number | null;
  trainSecondsPerStep: MeanSd | null;
  /** Seconds of the adapter's initialisation (PiSSA's SVDs, …), kept out of the step time. */
  initSeconds: MeanSd | null;
  finalTrainLoss: MeanSd | null;
  finalEvalLoss: MeanSd | null;
  exactMatch: MeanSd | null;
  /**
   * Exact match pooled over the seeds — correct answers ÷ answers checked — with its 95 % Wilson interval
   * (the spread from *which questions* were asked; the sd above is the spread from the seed).
   */
  exactMatchPooled: (RateInterval & { successes: number; n: number }) | null;
  peakAllocatedBytes: MeanSd | null;
  peakRssBytes: MeanSd | null;
}

/**
 * Groups comparison rows by variant and averages each metric over the seeds.
 *
 * @param rows Rows of {@linkcode compareRuns} (several seeds per variant).
 * @returns One summary per variant, in first-seen order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeSeeds } from "./seed_summary.ts";
 * const row = (seed: number, loss: number) => ({ name: "lora", method: "lora", seed, ok: true, trainableParams: 10,
 *   secondsPerStep: 0.2, trainSecondsPerStep: 0.1, evalSeconds: 1, peakMemoryBytes: null, peakAllocatedBytes: null,
 *   peakRssBytes: null, initSeconds: 0, memoryBreakdown: null, finalTrainLoss: 2, finalEvalLoss: loss, exactMatch: 0.5,
 *   exactMatchExamples: 60, runDir: "runs/x" });
 * const [s] = summarizeSeeds([row(0, 3), row(1, 3.2), row(2, 3.4)]);
 * assert.deepEqual(s.seeds, [0, 1, 2]);
 * assert.ok(Math.abs(s.finalEvalLoss!.mean - 3.2) < 1e-12 && Math.abs(s.finalEvalLoss!.sd - 0.2) < 1e-12);
 * assert.deepEqual([s.exactMatchPooled!.successes, s.exactMatchPooled!.n], [90, 180]);
 * ```
 */
export function summarizeSeeds(rows: readonly ComparisonRow[]): SeedSummary[] {
  const names = [...new Set(rows.map((r) => r.name))];
  return names.map((name) => {
    const mine = rows.filter((r) => r.name === name), ok = mine.filter((r) => r.ok);
    const stat = (k: keyof ComparisonRow) => {
      const xs = ok.map((r) => r[k]).filter((x): x is number => typeof x === "number");
      return xs.length ? meanSd(xs) : null;
    };
    return {
      name,
      method: mine[0].method,
      seeds: ok.map((r) => r.seed),
      failed: mine.length - ok.length,
      trainableParams: ok[0]?.trainableParams ?? null,
      trainSecondsPerStep: stat("trainSecondsPerStep"),
      initSeconds: stat("initSeconds"),
      finalTrainLoss: stat("finalTrainLoss"),
      finalEvalLoss: stat("finalEvalLoss"),
      exactMatch: stat("exactMatch"),
      exactMatchPooled: _pooled(ok),
      peakAllocatedBytes: stat("peakAllocatedBytes"),
      peakRssBytes: stat("peakRssBytes"),
    };
  });
}

function _pooled(rows: readonly ComparisonRow[]): SeedSummary["exactMatchPooled"] {
  const counted = rows.filter((r) => r.exactMatch !== null && r.exactMatchExamples);
  if (!counted.length) return null;
  const successes = counted.reduce((a, r) => a + Math.round(r.exactMatch! * r.exactMatchExamples!), 0);
  const n = counted.reduce((a, r) => a + r.exactMatchExamples!, 0);
  return { ...binomialInterval(successes, n), successes, n };
}

/**
 * Reads seed-averaged results honestly: each variant against the baseline on held-out loss (and exact
 * match), calling a difference real only when it exceeds the seed-to-seed noise (`exceedsNoise`:
 * |Δmean| > 2·√(sd_a²/n_a + sd_b²/n_b)).
 *
 * @param summaries The output of {@linkcode summarizeSeeds}.
 * @param options `baseline` (default: the first variant).
 * @returns Sentences, computed from the numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeSeeds } from "./seed_summary.ts";
 * import { binomialInterval } from "../eval/binomial.ts";
 * const s = (name: string, mean: number, hits = 90) => ({ name, method: name, seeds: [0, 1, 2], failed: 0,
 *   trainableParams: 10, trainSecondsPerStep: null, initSeconds: null, finalTrainLoss: null, exactMatch: null,
 *   exactMatchPooled: { ...binomialInterval(hits, 180), successes: hits, n: 180 }, peakAllocatedBytes: null,
 *   peakRssBytes: null, finalEvalLoss: { mean, sd: 0.05, n: 3 } });
 * assert.match(describeSeeds([s("lora", 3), s("dora", 3.01)]).join(" "), /within the seed-to-seed spread/);
 * assert.match(describeSeeds([s("lora", 3), s("dora", 2.5)]).join(" "), /lower, by more than the seed-to-seed spread/);
 * assert.match(describeSeeds([s("lora", 3), s("dora", 3, 150)]).join(" "), /83% \[77–88%\] vs 50% \[43–57%\] \(the 95% intervals do not overlap\)/);
 * ```
 */
export function describeSeeds(
  summaries: readonly SeedSummary[],
  options: { baseline?: string } = {},
): string[] {
  const base = summaries.find((s) => s.name === options.baseline) ?? summaries[0];
  if (!base?.finalEvalLoss) return ["No run reported a held-out loss: set an eval dataset."];
  const n = Math.min(...summaries.map((s) => s.seeds.length));
  const lines = [
    `Rule: a difference in held-out loss counts only when it is larger than twice the standard error of the ` +
    `difference over seeds (|Δmean| > 2·√(sd_a²/n_a + sd_b²/n_b)); ${n} seed${
      n === 1 ? "" : "s"
    } per setting${
      n < 2 ? ", so no difference can be called real" : ""
    }. Exact match is pooled over the seeds with its 95% binomial interval; it differs only when the ` +
    `intervals do not overlap.`,
  ];
  const pct = (m: MeanSd | null) =>
    m === null ? "n/a" : `${(m.mean * 100).toFixed(0)}% ± ${(m.sd * 100).toFixed(0)}`;
  for (const s of summaries) {
    if (s === base || !s.finalEvalLoss) continue;
    const real = exceedsNoise(s.finalEvalLoss, base.finalEvalLoss);
    const better = s.finalEvalLoss.mean < base.finalEvalLoss.mean ? "lower" : "higher";
    const a = s.exactMatchPooled, b = base.exactMatchPooled;
    const em = a && b
      ? `exact match ${_rate(a)} vs ${_rate(b)} (${
        intervalsDisjoint(a, b)
          ? "the 95% intervals do not overlap"
          : "the 95% intervals overlap: no difference shown"
      })`
      : `exact match ${pct(s.exactMatch)} vs ${pct(base.exactMatch)}`;
    lines.push(
      `${s.name} vs ${base.name}: held-out loss ${formatMeanSd(s.finalEvalLoss)} vs ${
        formatMeanSd(base.finalEvalLoss)
      } — ${
        real
          ? `${better}, by more than the seed-to-seed spread (a real difference for this model, data and budget)`
          : "within the seed-to-seed spread (no difference shown)"
      }; ${em}.`,
    );
  }
  return lines;
}

function _rate(r: RateInterval): string {
  const pct = (x: number) => Math.round(100 * x);
  return `${pct(r.rate)}% [${pct(r.low)}–${pct(r.high)}%]`;
}

/**
 * Table rows for seed-averaged results: one per variant, each metric as `mean ± sd`.
 *
 * @param summaries The output of {@linkcode summarizeSeeds}.
 * @param options `costs`: add the initialisation time and memory columns — the allocator's peak of live
 *   tensor bytes (what the method costs) and the process's resident memory (RSS: mostly PyTorch itself on a
 *   small model), labelled as what they are.
 * @returns Rows for `showTable`: variant, trainable params, train ms/step (optimizer steps only, no evaluation),
 *   held-out loss, exact match % (mean ± sd over seeds), exact match pooled with its 95 % interval, seeds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seedTableRows } from "./seed_summary.ts";
 * const [row] = seedTableRows([{ name: "lora", method: "lora", seeds: [0, 1], failed: 0, trainableParams: 10,
 *   trainSecondsPerStep: { mean: 0.1, sd: 0.01, n: 2 }, initSeconds: { mean: 0.5, sd: 0, n: 2 }, finalTrainLoss: null,
 *   finalEvalLoss: { mean: 3, sd: 0.1, n: 2 }, exactMatch: { mean: 0.5, sd: 0.05, n: 2 },
 *   exactMatchPooled: { rate: 0.5, low: 0.41, high: 0.59, successes: 60, n: 120 },
 *   peakAllocatedBytes: { mean: 2e7, sd: 0, n: 2 }, peakRssBytes: { mean: 1.1e9, sd: 1e6, n: 2 } }], { costs: true });
 * assert.deepEqual(row, { variant: "lora", "trainable params": 10, "train ms/step": "100 ± 10",
 *   "held-out loss": "3.000 ± 0.100", "exact match %": "50 ± 5", "exact match, pooled [95% CI]": "50% [41–59%]",
 *   "init s": "0.50 ± 0.00", "allocator peak MB": "20.0 ± 0.0", "process RSS MB": "1100 ± 1", seeds: 2 });
 * ```
 */
export function seedTableRows(
  summaries: readonly SeedSummary[],
  options: { costs?: boolean } = {},
): Record<string, string | number | null>[] {
  const scaled = (m: MeanSd | null, k: number) => m && { ...m, mean: m.mean * k, sd: m.sd * k };
  return summaries.map((s) => ({
    variant: s.name,
    "trainable params": s.trainableParams,
    "train ms/step": formatMeanSd(scaled(s.trainSecondsPerStep, 1000), 0),
    "held-out loss": formatMeanSd(s.finalEvalLoss),
    "exact match %": formatMeanSd(scaled(s.exactMatch, 100), 0),
    "exact match, pooled [95% CI]": s.exactMatchPooled ? _rate(s.exactMatchPooled) : "—",
    ...(options.costs
      ? {
        "init s": formatMeanSd(s.initSeconds, 2),
        "allocator peak MB": formatMeanSd(scaled(s.peakAllocatedBytes, 1e-6), 1),
        "process RSS MB": formatMeanSd(scaled(s.peakRssBytes, 1e-6), 0),
      }
      : {}),
    seeds: s.seeds.length,
  }));
}

/**
 * An honest reading of a comparison table. With several seeds per variant it is {@linkcode describeSeeds}'s:
 * a difference is real only when it exceeds the seed-to-seed spread. With one seed it states each method
 * against the baseline (held-out loss, exact match with its 95 % binomial interval, time per training
 * step, trainable parameters) and says that one seed cannot tell a difference from noise — it never calls
 * a single-seed result a tie or a real difference.
 *
 * @param rows The rows of `compareRuns`.
 * @param options `baseline`: the variant the others are read against (default "lora", else the first).
 * @returns Sentences, computed from the rows.
 *
 * @example One seed: the numbers, and no verdict
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeComparison } from "./seed_summary.ts";
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
