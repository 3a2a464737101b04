/**
 * Did a run learn or memorise? Compares the held-out (eval) loss curve with the training loss.
 *
 * @module
 */
import { eventsOf, type TrainEvent } from "./events.ts";

/** The verdict and the numbers behind it. */
export interface OverfittingVerdict {
  /** True when the held-out loss rose by more than `tolerance` (relative) above its best. */
  overfitting: boolean;
  bestStep: number;
  bestEvalLoss: number;
  lastStep: number;
  lastEvalLoss: number;
  firstTrainLoss: number;
  lastTrainLoss: number;
  /** One sentence with the numbers. */
  message: string;
}

/**
 * Reads a run's curves: overfitting when the held-out loss ends more than `tolerance` above its best
 * while the training loss fell.
 *
 * @param events The run's events (needs step events and at least one eval with a loss).
 * @param options `tolerance`: relative rise that counts (default 0.05 = 5%).
 * @returns The verdict.
 * @throws {Error} When the run has no steps or no evaluated loss (say: set `train.evalEvery`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { overfittingVerdict } from "./overfitting.ts";
 * import { loadRun } from "./run_store.ts";
 * assert.equal(overfittingVerdict(loadRun(`${projectRoot()}/data/runs/numbers-lora`).events).overfitting, false);
 * ```
 */
export function overfittingVerdict(
  events: readonly TrainEvent[],
  options: { tolerance?: number } = {},
): OverfittingVerdict {
  const tolerance = options.tolerance ?? 0.05;
  const steps = eventsOf(events, "step");
  const evals = eventsOf(events, "eval").filter((e) => e.evalLoss != null);
  if (!steps.length || !evals.length) {
    throw new Error(
      `overfittingVerdict(): the run has ${steps.length} step and ${evals.length} eval events; ` +
        "train with train.evalEvery > 0 and an eval dataset.",
    );
  }
  const best = evals.reduce((a, b) => (b.evalLoss! < a.evalLoss! ? b : a));
  const last = evals.at(-1)!;
  const first = steps[0].loss, lastTrain = steps.at(-1)!.loss;
  const rise = (last.evalLoss! - best.evalLoss!) / best.evalLoss!;
  const overfitting = rise > tolerance && lastTrain < first;
  const f = (x: number) => x.toFixed(3);
  const message = overfitting
    ? `Overfitting: held-out loss was lowest at step ${best.step} (${f(best.evalLoss!)}) and rose ${
      (rise * 100).toFixed(0)
    }% to ${f(last.evalLoss!)} by step ${last.step}, while training loss fell ${f(first)} → ${
      f(lastTrain)
    }: the model memorises its training answers. Stop near step ${best.step}, or use more varied data.`
    : `No overfitting: held-out loss ${f(last.evalLoss!)} at step ${last.step} is within ${
      (tolerance * 100).toFixed(0)
    }% of its best (${f(best.evalLoss!)} at step ${best.step}); training loss fell ${f(first)} → ${
      f(lastTrain)
    }.`;
  return {
    overfitting,
    bestStep: best.step,
    bestEvalLoss: best.evalLoss!,
    lastStep: last.step,
    lastEvalLoss: last.evalLoss!,
    firstTrainLoss: first,
    lastTrainLoss: lastTrain,
    message,
  };
}
