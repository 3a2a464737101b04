/**
 * PiSSA (Meng et al. 2024): start the adapter from the principal singular triplets of `W`, and
 * freeze the residual. With `W = U·S·Vᵀ` and scaling `s`:
 * `A = √(S_r/s)·V_rᵀ`, `B = U_r·√(S_r/s)`, `W_res = W − s·B·A`, so `W_res + s·B·A = W` exactly.
 *
 * @module
 */
import { addScaled, type Matrix, matrix } from "../math/matrix.ts";
import { matmul } from "../math/matmul.ts";
import { svd } from "../math/svd.ts";
import { randomizedSvd } from "../math/randomized_svd.ts";
import { type LoraAdapter, loraScaling } from "./lora.ts";

/** Options for {@linkcode pissaInit}. */
export interface PissaOptions {
  /** The rank r. */
  r: number;
  /** `lora_alpha`. */
  alpha: number;
  /** rsLoRA scaling. */
  rslora?: boolean;
  /** Use the randomized SVD with this many power iterations (PEFT's `pissa_niter_K`); exact when absent. */
  niter?: number;
}

/**
 * PiSSA's initial adapter and residual weight.
 *
 * @param W The pretrained weight (out×in).
 * @param options Rank, alpha, and `niter` for the fast randomized SVD.
 * @returns The adapter `{A, B, alpha}` and `residual` = `W − s·B·A`.
 * @throws {Error} When r exceeds min(out, in).
 *
 * @example The adapter carries W's top directions; the residual the rest
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { pissaInit } from "./pissa.ts";
 * const { adapter, residual } = await pissaInit(fromRows([[3, 0], [0, 1]]), { r: 1, alpha: 1 });
 * assert.ok(Math.abs(residual.data[0]) < 1e-6); // the top direction (σ = 3) went to the adapter
 * assert.equal(Math.round(residual.data[3]), 1); // σ = 1 stays in the residual
 * assert.equal(adapter.A.rows, 1);
 * ```
 */
export async function pissaInit(
  W: Matrix,
  options: PissaOptions,
): Promise<{ adapter: LoraAdapter; residual: Matrix }> {
  const { r, alpha } = options;
  const p = Math.min(W.rows, W.cols);
  if (!Number.isInteger(r) || r < 1 || r > p) {
    throw new Error(
      `PiSSA rank ${r} must be from 1 to min(out, in) = ${p} for a ${W.rows}×${W.cols} weight.`,
    );
  }
  const s = loraScaling(alpha, r, options.rslora);
  const { u, s: sigma, vt } = options.niter === undefined
    ? svd(W)
    : await randomizedSvd(W, r, { niter: options.niter });
  const A = matrix(r, W.cols), B = matrix(W.rows, r);
  for (let k = 0; k < r; k++) {
    const root = Math.sqrt(sigma[k] / s);
    for (let j = 0; j < W.cols; j++) A.data[k * W.cols + j] = root * vt.data[k * vt.cols + j];
    for (let i = 0; i < W.rows; i++) B.data[i * r + k] = root * u.data[i * u.cols + k];
  }
  const ba = await matmul(B, A);
  return { adapter: { A, B, alpha, rslora: options.rslora }, residual: addScaled(W, ba, -s) };
}

/**
 * Converts a trained PiSSA adapter into a plain LoRA adapter for the *original* weight, as PEFT's
 * `save_pretrained(path_initial_model_for_weight_conversion=…)` does:
 * `ΔW = B·A − B₀·A₀ = [B | −B₀]·[A ; A₀]`. The rank doubles; alpha doubles (×√2 with rsLoRA) so the
 * scaling stays the same.
 *
 * @param trained The adapter after training.
 * @param initial The adapter {@linkcode pissaInit} made.
 * @returns A LoRA adapter of rank 2r.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { pissaToLora } from "./pissa.ts";
 * const a = { A: fromRows([[1, 0]]), B: fromRows([[1]]), alpha: 1 };
 * assert.equal(pissaToLora(a, a).A.rows, 2);
 * ```
 */
export function pissaToLora(trained: LoraAdapter, initial: LoraAdapter): LoraAdapter {
  const r = trained.A.rows, inF = trained.A.cols, out = trained.B.rows;
  if (initial.A.rows !== r || initial.A.cols !== inF || initial.B.rows !== out) {
    throw new Error(
      `pissaToLora: the initial adapter (A ${initial.A.rows}×${initial.A.cols}, B ${initial.B.rows}×${initial.B.cols}) ` +
        `does not match the trained one (A ${r}×${inF}, B ${out}×${r}).`,
    );
  }
  const A = matrix(2 * r, inF);
  A.data.set(trained.A.data, 0);
  A.data.set(initial.A.data, r * inF);
  const B = matrix(out, 2 * r);
  for (let i = 0; i < out; i++) {
    for (let k = 0; k < r; k++) {
      B.data[i * 2 * r + k] = trained.B.data[i * r + k];
      B.data[i * 2 * r + r + k] = -initial.B.data[i * r + k];
    }
  }
  const alpha = trained.rslora ? trained.alpha * Math.SQRT2 : trained.alpha * 2;
  return { A, B, alpha, rslora: trained.rslora };
}

/**
 * The share of a matrix's energy (Σσ², its squared Frobenius norm) in its top `r` singular values —
 * what PiSSA's adapter starts with.
 *
 * @param sigma Singular values, largest first.
 * @param r How many.
 * @returns A fraction in [0, 1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { topEnergy } from "./pissa.ts";
 * assert.equal(topEnergy([3, 1], 1), 0.9);
 * ```
 */
export function topEnergy(sigma: ArrayLike<number>, r: number): number {
  let top = 0, all = 0;
  for (let i = 0; i < sigma.length; i++) {
    all += sigma[i] ** 2;
    if (i < r) top += sigma[i] ** 2;
  }
  return all ? top / all : 0;
}
