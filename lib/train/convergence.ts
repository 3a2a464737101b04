/**
 * Convergence read from a run's events: how many steps it took to reach a loss, and the loss at a
 * given step — the measurable form of "method X converges faster".
 *
 * @module
 */
import { eventsOf, type TrainEvent } from "./events.ts";
import { exceedsNoise, formatMeanSd, type MeanSd, meanSd } from "../math/stats.ts";

/**
 * The first logged step whose training loss is at or below `threshold` (null if the run never got there).
 *
 * @param events A run's events.
 * @param threshold The loss to reach.
 * @returns The step, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stepsToLoss } from "./convergence.ts";
 * const step = (s: number, loss: number) => ({ event: "step" as const, protocol: 1 as const, time: 0, step: s, loss,
 *   peakMemoryBytes: 0, elapsed: 0, metrics: {} });
 * assert.equal(stepsToLoss([step(1, 5), step(5, 3.9), step(10, 3)], 4), 5);
 * assert.equal(stepsToLoss([step(1, 5)], 4), null);
 * ```
 */
export function stepsToLoss(events: readonly TrainEvent[], threshold: number): number | null {
  const hit = eventsOf(events, "step").find((e) => e.loss <= threshold);
  return hit ? hit.step : null;
}

/**
 * The training loss logged at `step`, or at the last logged step before it (null if none).
 *
 * @param events A run's events.
 * @param step The step.
 * @returns The loss, or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lossAtStep } from "./convergence.ts";
 * const step = (s: number, loss: number) => ({ event: "step" as const, protocol: 1 as const, time: 0, step: s, loss,
 *   peakMemoryBytes: 0, elapsed: 0, metrics: {} });
 * assert.equal(lossAtStep([step(1, 5), step(5, 3.9), step(10, 3)], 7), 3.9);
 * ```
 */
export function lossAtStep(events: readonly TrainEvent[], step: number): number | null {
  const before = eventsOf(events, "step").filter((e) => e.step <= step);
  return before.at(-1)?.loss ?? null;
}

/** One variant's convergence over its seeds. */
export interface ConvergenceSummary {
  name: string;
  /** The loss to reach. */
  threshold: number;
  /** Runs (seeds) of this variant. */
  seeds: number;
  /** How many of them reached the threshold. */
  reached: number;
  /** Steps to reach it, mean ± sd over the runs that did (null if none). */
  stepsToThreshold: MeanSd | null;
  /** Training loss at each requested step, mean ± sd over the runs. */
  lossAt: { step: number; loss: MeanSd | null }[];
}

/**
 * Convergence of each variant over its seeds: steps to reach a loss threshold and the loss at fixed
 * early steps, as mean ± sd — the form in which "method X converges faster" can be checked.
 *
 * @param runs One entry per run: the variant's name and its events (several runs per name = seeds).
 * @param options `threshold`: the loss to reach; `atSteps`: the steps whose loss to compare.
 * @returns One summary per variant, in first-seen order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { convergenceBySeed } from "./convergence.ts";
 * const step = (s: number, loss: number) => ({ event: "step" as const, protocol: 2 as const, time: 0, step: s, loss,
 *   peakMemoryBytes: 0, elapsed: 0, metrics: {} });
 * const run = (name: string, l5: number) => ({ name, events: [step(5, l5), step(10, l5 - 2), step(20, 2)] });
 * const [lora, pissa] = convergenceBySeed([run("lora", 8), run("lora", 7.8), run("pissa", 5), run("pissa", 5.2)],
 *   { threshold: 4.5, atSteps: [5] });
 * assert.deepEqual([lora.stepsToThreshold!.mean, pissa.stepsToThreshold!.mean, pissa.reached], [20, 10, 2]);
 * assert.ok(Math.abs(lora.lossAt[0].loss!.mean - 7.9) < 1e-12);
 * ```
 */
export function convergenceBySeed(
  runs: readonly { name: string; events: readonly TrainEvent[] }[],
  options: { threshold: number; atSteps: readonly number[] },
): ConvergenceSummary[] {
  const names = [...new Set(runs.map((r) => r.name))];
  return names.map((name) => {
    const mine = runs.filter((r) => r.name === name);
    const steps = mine.map((r) => stepsToLoss(r.events, options.threshold)).filter((s): s is number =>
      s !== null
    );
    return {
      name,
      threshold: options.threshold,
      seeds: mine.length,
      reached: steps.length,
      stepsToThreshold: steps.length ? meanSd(steps) : null,
      lossAt: options.atSteps.map((step) => {
        const losses = mine.map((r) => lossAtStep(r.events, step)).filter((l): l is number => l !== null);
        return { step, loss: losses.length ? meanSd(losses) : null };
      }),
    };
  });
}

/**
 * Reads {@linkcode convergenceBySeed} against a baseline with the seed-spread rule (`exceedsNoise`):
 * "faster" only when the steps to the threshold differ by more than twice the standard error of the
 * difference, and only when every seed of both got there.
 *
 * @param summaries The output of {@linkcode convergenceBySeed}.
 * @param options `baseline` (default: the first variant).
 * @returns Sentences, computed from the numbers.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeConvergence } from "./convergence.ts";
 * const s = (name: string, mean: number, reached = 3) => ({ name, threshold: 4, seeds: 3, reached,
 *   stepsToThreshold: { mean, sd: 2, n: reached }, lossAt: [{ step: 5, loss: { mean: mean / 3, sd: 0.1, n: 3 } }] });
 * assert.match(describeConvergence([s("lora", 30), s("pissa", 12)]).join(" "), /pissa reached .* faster than lora/);
 * assert.match(describeConvergence([s("lora", 30), s("dora", 31)]).join(" "), /dora .* no faster or slower/);
 * assert.match(describeConvergence([s("lora", 30), s("dora", 10, 2)]).join(" "), /only 2 of 3 seeds/);
 * ```
 */
export function describeConvergence(
  summaries: readonly ConvergenceSummary[],
  options: { baseline?: string } = {},
): string[] {
  const base = summaries.find((s) => s.name === options.baseline) ?? summaries[0];
  if (!base) return ["No runs."];
  const steps = (s: ConvergenceSummary) =>
    s.stepsToThreshold ? `${formatMeanSd(s.stepsToThreshold, 1)} steps` : "never";
  const lines: string[] = [];
  for (const s of summaries) {
    if (s === base) continue;
    const all = s.reached === s.seeds && base.reached === base.seeds;
    let verdict: string;
    if (!all) {
      verdict = `not comparable: only ${Math.min(s.reached, base.reached)} of ${
        s.reached < s.seeds ? s.seeds : base.seeds
      } seeds of ${s.reached < s.seeds ? s.name : base.name} reached it`;
    } else if (exceedsNoise(s.stepsToThreshold!, base.stepsToThreshold!)) {
      verdict = s.stepsToThreshold!.mean < base.stepsToThreshold!.mean
        ? `faster than ${base.name}, beyond the seed-to-seed spread`
        : `slower than ${base.name}, beyond the seed-to-seed spread`;
    } else verdict = `no faster or slower than ${base.name} within the seed-to-seed spread`;
    const early = s.lossAt.map((a, i) => {
      const b = base.lossAt[i]?.loss;
      if (!a.loss || !b) return "";
      const apart = exceedsNoise(a.loss, b)
        ? (a.loss.mean < b.mean ? "lower" : "higher")
        : "within the spread";
      return ` At step ${a.step} its loss was ${formatMeanSd(a.loss, 2)} vs ${
        formatMeanSd(b, 2)
      } (${apart}).`;
    }).join("");
    lines.push(
      `${s.name} reached loss ≤ ${s.threshold.toFixed(2)} in ${steps(s)}, ${base.name} in ${
        steps(base)
      }: ${verdict}.${early}`,
    );
  }
  return lines;
}
