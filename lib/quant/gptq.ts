/**
 * GPTQ (Frantar et al. 2023): int4 per-group quantization that uses calibration activations. It
 * minimises the layer's output error `‖XWᵀ − XŴᵀ‖²` rather than the weight error: columns are
 * quantized one at a time, and each column's rounding error is pushed onto the columns not yet
 * quantized, weighted by the inverse Hessian `H⁻¹` of that loss, `H = 2XᵀX/n`.
 *
 * Follows the paper's Algorithm 1 and the reference implementation (IST-DASLab/gptq,
 * `fasterquant` without activation ordering): dead inputs (`H_ii = 0`) get `H_ii = 1` and zero
 * weights; damping `λ = damp · mean(diag H)` on the diagonal; `U` = the upper Cholesky factor of
 * `H⁻¹`; for column `i`: `err = (w_i − q(w_i)) / U_ii`, `w_j −= err · U_ij` for `j > i`. A group's
 * grid is fitted when its first column is reached, on the already-updated weights. The grid is the
 * same as {@linkcode int4GroupQuantize}'s, so with `H ∝ I` (no correlation between inputs) GPTQ is
 * exactly round-to-nearest.
 *
 * @module
 */
import { matmul } from "../math/matmul.ts";
import { assertFinite, type Matrix } from "../math/matrix.ts";
import { _checkFinite } from "./_checks.ts";
import { _choleskyLower, _inverseFromCholesky } from "./_cholesky.ts";
import { _checkGroupSize, _emptyInt4, _int4Code, _int4Params } from "./_int4.ts";
import type { Int4GroupMatrix, Int4GroupOptions } from "./int4_group.ts";

/** Options for {@linkcode gptqQuantize}. */
export interface GptqOptions extends Int4GroupOptions {
  /** Damping as a fraction of the mean Hessian diagonal (default 0.01, GPTQ's `percdamp`). */
  damp?: number;
}

/**
 * Quantizes a weight to per-group int4 with GPTQ's error compensation, given calibration inputs.
 *
 * @param w The weight (`out × in`).
 * @param x Calibration inputs of this layer (`tokens × in`), e.g. from {@linkcode layerInputs}.
 * @param options Group size (default 32) and damping (default 0.01).
 * @returns Codes, scales and zero points (dequantize with {@linkcode int4GroupDequantize}).
 * @throws {Error} On shapes that do not match, non-finite values, a bad group size or damping.
 *
 * @example Uncorrelated inputs: the same as round-to-nearest
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrix, randn } from "../math/matrix.ts";
 * import { gptqQuantize } from "./gptq.ts";
 * import { int4GroupQuantize } from "./int4_group.ts";
 * const w = randn(4, 8, 1), identity = matrix(8, 8);
 * for (let i = 0; i < 8; i++) identity.data[i * 9] = 1;
 * const gptq = await gptqQuantize(w, identity, { groupSize: 4 });
 * assert.deepEqual(gptq.codes, int4GroupQuantize(w, { groupSize: 4 }).codes);
 * ```
 */
export async function gptqQuantize(
  w: Matrix,
  x: Matrix,
  options: GptqOptions = {},
): Promise<Int4GroupMatrix> {
  const groupSize = options.groupSize ?? 32, damp = options.damp ?? 0.01;
  const { rows, cols } = w;
  _checkGroupSize(groupSize, cols, "gptqQuantize");
  if (x.cols !== cols || x.rows === 0) {
    throw new Error(
      `gptqQuantize: calibration inputs are ${x.rows}×${x.cols}; the weight ${rows}×${cols} needs tokens × ${cols} (at least one token).`,
    );
  }
  if (!(damp >= 0 && Number.isFinite(damp))) {
    throw new Error(`gptqQuantize: damp ${damp} must be a finite number ≥ 0, e.g. 0.01.`);
  }
  w.data.forEach((v, i) => _checkFinite(v, i, "gptqQuantize (weight)"));
  assertFinite(x, "gptqQuantize calibration inputs");

  // H = 2XᵀX/n, in float64 from here on.
  const xtx = await matmul(x, x, { transA: true });
  const h = Float64Array.from(xtx.data, (v) => (2 * v) / x.rows);
  const W = Float64Array.from(w.data);
  let meanDiag = 0;
  for (let i = 0; i < cols; i++) {
    if (h[i * cols + i] === 0) {
      h[i * cols + i] = 1;
      for (let r = 0; r < rows; r++) W[r * cols + i] = 0;
    }
    meanDiag += h[i * cols + i] / cols;
  }
  for (let i = 0; i < cols; i++) h[i * cols + i] += damp * meanDiag;
  const hInv = _inverseFromCholesky(_choleskyLower(h, cols, "gptqQuantize: the damped Hessian 2XᵀX/n"), cols);
  const lower = _choleskyLower(hInv, cols, "gptqQuantize: the inverse Hessian");
  // U = Lᵀ (upper): U[i][j] = lower[j][i].
  const u = (i: number, j: number) => lower[j * cols + i];

  const groups = cols / groupSize;
  const q = _emptyInt4(rows, cols, groupSize);
  for (let i = 0; i < cols; i++) {
    const g = Math.floor(i / groupSize);
    for (let r = 0; r < rows; r++) {
      const row = r * cols, k = r * groups + g;
      if (i % groupSize === 0) {
        let lo = Infinity, hi = -Infinity;
        for (let j = i; j < i + groupSize; j++) {
          lo = Math.min(lo, W[row + j]);
          hi = Math.max(hi, W[row + j]);
        }
        const p = _int4Params(lo, hi);
        q.scales[k] = p.scale;
        q.zeros[k] = p.zero;
      }
      const code = _int4Code(W[row + i], q.scales[k], q.zeros[k]);
      q.codes[row + i] = code;
      const err = (W[row + i] - Math.fround(q.scales[k] * (code - q.zeros[k]))) / u(i, i);
      for (let j = i + 1; j < cols; j++) W[row + j] -= err * u(i, j);
    }
  }
  return q;
}
