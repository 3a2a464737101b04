/**
 * The DPO loss for one preference pair (Rafailov et al., 2023), exactly as TRL's `DPOTrainer` computes it
 * with its defaults (`loss_type="sigmoid"`, `f_divergence_type="reverse_kl"`, no label smoothing, no
 * `ld_alpha`, no weighting): from four sequence log-probabilities (each the sum of the completion's token
 * log-probs), the implicit rewards `β·(log π(y|x) − log π_ref(y|x))` and `−log σ(reward_chosen − reward_rejected)`.
 *
 * `tests/align_metrics_test.ts` checks it against TRL's own `DPOTrainer._compute_loss` on random pairs
 * (`lib/align/python/dpo_loss_reference.py`).
 *
 * @module
 */

/** The four sequence log-probabilities of one pair, and β. */
export interface DpoLossInput {
  /** log π(chosen | prompt) under the model being trained. */
  policyChosen: number;
  /** log π(rejected | prompt) under the model being trained. */
  policyRejected: number;
  /** log π_ref(chosen | prompt) under the frozen reference (the SFT model). */
  refChosen: number;
  /** log π_ref(rejected | prompt) under the frozen reference. */
  refRejected: number;
  /** How strongly the policy is held near the reference (TRL's `beta`; the trainer's `train.dpoBeta`). */
  beta: number;
}

/** The loss and the implicit rewards TRL logs (`rewards/chosen`, `rewards/rejected`, `rewards/margins`). */
export interface DpoLoss {
  /** `−log σ(margin)`: ln 2 ≈ 0.693 when policy = reference, → 0 as the margin grows. */
  loss: number;
  /** `β·(policyChosen − refChosen)`. */
  rewardChosen: number;
  /** `β·(policyRejected − refRejected)`. */
  rewardRejected: number;
  /** `rewardChosen − rewardRejected` (positive: the policy moved toward the chosen answer). */
  margin: number;
}

/** `−log σ(x)` without overflow: `max(−x, 0) + log(1 + e^−|x|)`. */
function _negLogSigmoid(x: number): number {
  return Math.max(-x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/**
 * The sigmoid DPO loss of one pair: `−log σ(β·[(log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l))])`.
 *
 * @param input The four sequence log-probabilities (each ≤ 0) and β > 0.
 * @returns The loss, both implicit rewards and their margin.
 * @throws {Error} When a log-probability is not a finite number ≤ 0 (e.g. a probability or a logit was
 * passed), or β is not a finite number > 0; the message names the field.
 *
 * @example Policy = reference gives ln 2; moving toward the chosen answer lowers the loss
 * ```ts
 * import assert from "node:assert/strict";
 * import { dpoLoss } from "./dpo_loss.ts";
 * const same = dpoLoss({ policyChosen: -5, policyRejected: -7, refChosen: -5, refRejected: -7, beta: 0.1 });
 * assert.ok(Math.abs(same.loss - Math.LN2) < 1e-12);
 * assert.equal(same.margin, 0);
 * const moved = dpoLoss({ policyChosen: -4, policyRejected: -9, refChosen: -5, refRejected: -7, beta: 0.1 });
 * assert.ok(Math.abs(moved.rewardChosen - 0.1) < 1e-12 && Math.abs(moved.rewardRejected + 0.2) < 1e-12);
 * assert.ok(Math.abs(moved.margin - 0.3) < 1e-12);
 * assert.ok(Math.abs(moved.loss - Math.log(1 + Math.exp(-0.3))) < 1e-12);
 * ```
 */
export function dpoLoss(input: DpoLossInput): DpoLoss {
  for (const field of ["policyChosen", "policyRejected", "refChosen", "refRejected"] as const) {
    const v = input[field];
    if (typeof v !== "number" || !Number.isFinite(v) || v > 0) {
      throw new Error(
        `dpoLoss: ${field} is ${v}; a sequence log-probability is a finite number ≤ 0 ` +
          "(the sum of the completion's token log-probs), not a probability or a logit.",
      );
    }
  }
  const { beta } = input;
  if (typeof beta !== "number" || !Number.isFinite(beta) || beta <= 0) {
    throw new Error(`dpoLoss: beta is ${beta}; pass a number > 0 (TRL's default is 0.1).`);
  }
  const chosenLogRatio = input.policyChosen - input.refChosen;
  const rejectedLogRatio = input.policyRejected - input.refRejected;
  const rewardChosen = beta * chosenLogRatio;
  const rewardRejected = beta * rejectedLogRatio;
  return {
    loss: _negLogSigmoid(beta * (chosenLogRatio - rejectedLogRatio)),
    rewardChosen,
    rewardRejected,
    margin: rewardChosen - rewardRejected,
  };
}
