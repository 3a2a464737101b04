/**
 * Convergence read from a run's events: how many steps it took to reach a loss, and the loss at a
 * given step — the measurable form of "method X converges faster".
 *
 * @module
 */
import { eventsOf, type TrainEvent } from "./events.ts";

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
