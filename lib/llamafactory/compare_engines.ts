/**
 * Two engines, one recipe: do their loss curves agree, and if not, where does the difference come from?
 *
 * The logged loss of step 1 is computed BEFORE the first update, on the first batch, with the initial weights.
 * With the same seed (same adapter initialisation, same data order) it depends only on what each engine makes of
 * the data: the chat template, which tokens are masked out of the loss, the cut-off length. So:
 * - step 1 differs → the data side differs (template, masking, cut-off);
 * - step 1 agrees but the learning rates differ → the schedule (scheduler type, warm-up) differs;
 * - both agree and the curves drift apart later → the update itself (optimizer details, dropout, precision).
 *
 * @module
 */
import { eventsOf, type TrainEvent } from "../train/events.ts";

/** Options for {@linkcode compareEngines}. */
export interface CompareEnginesOptions {
  /** Largest |Δ loss| still called agreement (default 1e-4: fp32 on a CPU agrees to ~1e-6; a template change moves step 1 by > 1e-2). */
  tolerance?: number;
  /** The two engines' names, for the reading (default `a`, `b`). */
  names?: [string, string];
}

/** One step both engines logged. */
export interface EngineStepRow {
  step: number;
  lossA: number;
  lossB: number;
  /** |lossA − lossB|. */
  diff: number;
}

/** What {@linkcode compareEngines} found. */
export interface EngineComparison {
  rows: EngineStepRow[];
  tolerance: number;
  /** Largest |Δ loss| over the common steps, and where. */
  maxDiff: number;
  maxDiffStep: number;
  /** |Δ loss| at the first common step (before any update when it is step 1). */
  firstDiff: number;
  /** |Δ loss| at the last common step. */
  finalDiff: number;
  /** Largest |Δ learning rate| over the common steps (null when one engine did not log it). */
  maxLrDiff: number | null;
  /** True when every common step agrees within the tolerance. */
  agree: boolean;
  /** Which side differs: "none", "data" (template/masking/cut-off), "schedule", or "update". */
  cause: "none" | "data" | "schedule" | "update";
  /** The reading, one sentence per line. */
  reading: string[];
}

/**
 * Compares two runs of the same recipe step by step and says where a difference comes from.
 *
 * @param a The first engine's events.
 * @param b The second engine's events.
 * @param options Tolerance and names.
 * @returns The per-step rows, the largest differences, the cause and a reading.
 * @throws {Error} When the runs have no logged step in common.
 *
 * @example A difference already at step 1 is a data difference
 * ```ts
 * import assert from "node:assert/strict";
 * import { compareEngines } from "./compare_engines.ts";
 * const step = (step: number, loss: number, learningRate = 1e-3) =>
 *   ({ event: "step", protocol: 2, time: 0, step, loss, learningRate, peakMemoryBytes: 0, elapsed: 0, metrics: {} }) as const;
 * const same = compareEngines([step(1, 9), step(2, 8)], [step(1, 9 + 1e-6), step(2, 8)], { names: ["ince", "LLaMA-Factory"] });
 * assert.equal(same.cause, "none");
 * assert.match(same.reading[0], /^ince and LLaMA-Factory agree within 0\.0001 at all 2 steps/);
 * const template = compareEngines([step(1, 9), step(2, 8)], [step(1, 9.3), step(2, 8.2)]);
 * assert.equal(template.cause, "data");
 * const schedule = compareEngines([step(1, 9), step(2, 8)], [step(1, 9), step(2, 8.1, 5e-4)]);
 * assert.equal(schedule.cause, "schedule");
 * ```
 */
export function compareEngines(
  a: readonly TrainEvent[],
  b: readonly TrainEvent[],
  options: CompareEnginesOptions = {},
): EngineComparison {
  const tolerance = options.tolerance ?? 1e-4;
  const [nameA, nameB] = options.names ?? ["a", "b"];
  const stepsB = new Map(eventsOf(b, "step").map((e) => [e.step, e]));
  const pairs = eventsOf(a, "step").filter((e) => stepsB.has(e.step)).map((e) =>
    [e, stepsB.get(e.step)!] as const
  );
  if (!pairs.length) {
    throw new Error(
      `${nameA} and ${nameB} logged no step in common: log every step (logEvery 1 / logging_steps 1).`,
    );
  }
  const rows = pairs.map(([x, y]) => ({
    step: x.step,
    lossA: x.loss,
    lossB: y.loss,
    diff: Math.abs(x.loss - y.loss),
  }));
  const worst = rows.reduce((m, r) => (r.diff > m.diff ? r : m), rows[0]);
  const lrDiffs = pairs.map(([x, y]) =>
    x.learningRate == null || y.learningRate == null ? null : Math.abs(x.learningRate - y.learningRate)
  );
  const maxLrDiff = lrDiffs.some((d) => d === null) ? null : Math.max(...(lrDiffs as number[]));
  const lrScale = Math.max(...pairs.map(([x]) => Math.abs(x.learningRate ?? 0)), 1e-30);
  const firstDiff = rows[0].diff, finalDiff = rows.at(-1)!.diff;
  const agree = worst.diff <= tolerance;
  const firstBeyond = rows.find((r) => r.diff > tolerance);
  const fmt = (x: number) => x.toExponential(1);
  const reading: string[] = [];
  let cause: EngineComparison["cause"];
  if (agree) {
    cause = "none";
    reading.push(
      `${nameA} and ${nameB} agree within ${tolerance} at all ${rows.length} steps ` +
        `(largest |Δ loss| ${fmt(worst.diff)} at step ${worst.step}; final ${fmt(finalDiff)}).`,
    );
  } else if (firstDiff > tolerance) {
    cause = "data";
    reading.push(
      `${nameA} and ${nameB} differ already at step ${rows[0].step} (|Δ loss| ${
        fmt(firstDiff)
      } > ${tolerance}), ` +
        "where the loss is computed with the same initial weights on the same batch: the engines see different " +
        "tokens — the chat template (a default system prompt, other special tokens), which tokens are masked out " +
        "of the loss, or the cut-off length.",
    );
  } else if (maxLrDiff !== null && maxLrDiff > 1e-9 * lrScale) {
    cause = "schedule";
    const at = pairs.find(([x, y]) => Math.abs(x.learningRate! - y.learningRate!) === maxLrDiff)!;
    reading.push(
      `Step ${rows[0].step} agrees (same data, same masking), but the learning rates differ ` +
        `(step ${at[0].step}: ${at[0].learningRate} vs ${
          at[1].learningRate
        }): the scheduler or warm-up differs.`,
    );
  } else {
    cause = "update";
    reading.push(
      `Step ${rows[0].step} and the learning rates agree, but the curves part from step ${
        firstBeyond!.step
      } ` +
        `(largest |Δ loss| ${
          fmt(worst.diff)
        } at step ${worst.step}): the update differs — optimizer details, ` +
        "dropout, or numerical precision.",
    );
  }
  return {
    rows,
    tolerance,
    maxDiff: worst.diff,
    maxDiffStep: worst.step,
    firstDiff,
    finalDiff,
    maxLrDiff,
    agree,
    cause,
    reading,
  };
}
