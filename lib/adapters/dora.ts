/**
 * DoRA (Liu et al. 2024): the weight split into a magnitude `m` (one norm per output row) and a
 * direction `(W + s·B·A) / ‖W + s·B·A‖`; LoRA trains the direction, `m` is trained directly.
 * PEFT's conventions: the norm is per output row and treated as a constant (detached).
 *
 * @module
 */
import { addScaled, assertSameShape, type Matrix } from "../math/matrix.ts";
import { matmul } from "../math/matmul.ts";
import { rowNorms } from "../math/norms.ts";
import { addBias, checkAdapter, type LoraAdapter, loraDelta, loraScaling } from "./lora.ts";

/** A DoRA adapter: a LoRA adapter plus the magnitude vector (length out). */
export interface DoraAdapter extends LoraAdapter {
  magnitude: Float32Array;
}

/**
 * The initial magnitude: the norm of each output row of `W`.
 *
 * @param W The frozen weight (out×in).
 * @returns Length-out magnitudes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { doraInitMagnitude } from "./dora.ts";
 * assert.deepEqual(Array.from(doraInitMagnitude(fromRows([[3, 4]]))), [5]);
 * ```
 */
export function doraInitMagnitude(W: Matrix): Float32Array {
  return rowNorms(W);
}

/**
 * `m / ‖W + s·B·A‖` per output row: how much each row is rescaled.
 *
 * @param W The frozen weight.
 * @param adapter The DoRA adapter.
 * @returns Length-out scale factors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, matrix } from "../math/matrix.ts";
 * import { doraScale } from "./dora.ts";
 * const s = await doraScale(fromRows([[3, 4]]), { A: matrix(1, 2), B: matrix(1, 1), alpha: 1, magnitude: new Float32Array([10]) });
 * assert.deepEqual(Array.from(s), [2]);
 * ```
 */
export async function doraScale(W: Matrix, adapter: DoraAdapter): Promise<Float32Array> {
  checkAdapter(W, adapter);
  if (adapter.magnitude.length !== W.rows) {
    throw new Error(`DoRA magnitude has ${adapter.magnitude.length} values; W has ${W.rows} output rows.`);
  }
  const norms = rowNorms(addScaled(W, await loraDelta(adapter)));
  return adapter.magnitude.map((m, i) => m / norms[i]);
}

/**
 * The layer's output, as PEFT computes it:
 * `y = x·Wᵀ + bias + (k − 1)·(x·Wᵀ) + k·s·(x·Aᵀ)·Bᵀ` with `k = m / ‖W + s·B·A‖` per output.
 *
 * @param x Inputs, tokens×in.
 * @param W The frozen weight, out×in.
 * @param adapter The DoRA adapter.
 * @param bias Optional bias (not rescaled, as in PEFT).
 * @returns tokens×out.
 *
 * @example At init (B = 0, m = ‖W‖) DoRA changes nothing
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, matrix } from "../math/matrix.ts";
 * import { doraForward, doraInitMagnitude } from "./dora.ts";
 * const W = fromRows([[1, 2], [3, 4]]);
 * const y = await doraForward(fromRows([[1, 1]]), W, { A: fromRows([[1, 1]]), B: matrix(2, 1), alpha: 1, magnitude: doraInitMagnitude(W) });
 * assert.deepEqual(Array.from(y.data).map(Math.round), [3, 7]);
 * ```
 */
export async function doraForward(
  x: Matrix,
  W: Matrix,
  adapter: DoraAdapter,
  bias?: Float32Array,
): Promise<Matrix> {
  const k = await doraScale(W, adapter);
  const s = loraScaling(adapter.alpha, adapter.A.rows, adapter.rslora);
  const base = await matmul(x, W, { transB: true });
  const low = await matmul(await matmul(x, adapter.A, { transB: true }), adapter.B, { transB: true });
  const y = { rows: base.rows, cols: base.cols, data: new Float32Array(base.data.length) };
  for (let i = 0; i < y.rows; i++) {
    for (let j = 0; j < y.cols; j++) {
      const at = i * y.cols + j;
      y.data[at] = base.data[at] + (k[j] - 1) * base.data[at] + k[j] * low.data[at] * s;
    }
  }
  if (bias) addBias(y, bias);
  return y;
}

/**
 * Merges DoRA into the weight: `k ⊙ (W + s·B·A)`, row by row.
 *
 * @param W The frozen weight.
 * @param adapter The DoRA adapter.
 * @returns The merged weight and the scale `k` used (needed to unmerge).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, matrix } from "../math/matrix.ts";
 * import { doraMerge } from "./dora.ts";
 * const { merged } = await doraMerge(fromRows([[3, 4]]), { A: matrix(1, 2), B: matrix(1, 1), alpha: 1, magnitude: new Float32Array([10]) });
 * assert.deepEqual(Array.from(merged.data), [6, 8]);
 * ```
 */
export async function doraMerge(
  W: Matrix,
  adapter: DoraAdapter,
): Promise<{ merged: Matrix; scale: Float32Array }> {
  const scale = await doraScale(W, adapter);
  const merged = addScaled(W, await loraDelta(adapter));
  for (let i = 0; i < merged.rows; i++) {
    for (let j = 0; j < merged.cols; j++) merged.data[i * merged.cols + j] *= scale[i];
  }
  return { merged, scale };
}

/**
 * Undoes {@linkcode doraMerge}: `merged / k − s·B·A`.
 *
 * @param merged The merged weight.
 * @param adapter The adapter that was merged.
 * @param scale The `scale` that {@linkcode doraMerge} returned.
 * @returns The original weight (up to float rounding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, matrix } from "../math/matrix.ts";
 * import { doraUnmerge } from "./dora.ts";
 * const w = await doraUnmerge(fromRows([[6, 8]]), { A: matrix(1, 2), B: matrix(1, 1), alpha: 1, magnitude: new Float32Array([10]) }, new Float32Array([2]));
 * assert.deepEqual(Array.from(w.data), [3, 4]);
 * ```
 */
export async function doraUnmerge(
  merged: Matrix,
  adapter: DoraAdapter,
  scale: Float32Array,
): Promise<Matrix> {
  checkAdapter(merged, adapter);
  const unscaled = { rows: merged.rows, cols: merged.cols, data: merged.data.slice() };
  for (let i = 0; i < merged.rows; i++) {
    for (let j = 0; j < merged.cols; j++) unscaled.data[i * merged.cols + j] /= scale[i];
  }
  return addScaled(unscaled, await loraDelta(adapter), -1);
}

/**
 * The DoRA paper's analysis of a fine-tune (its Fig. 2): how much the magnitude and the direction
 * of each output row changed between `W0` and `Wtuned`.
 *
 * @param W0 The weight before fine-tuning.
 * @param Wtuned The weight after (e.g. a merged adapter).
 * @returns `deltaM` = mean |‖w_t‖ − ‖w_0‖|, `deltaD` = mean (1 − cos(w_t, w_0)), over output rows.
 *
 * @example Scaling changes only the magnitude
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { magnitudeDirectionChange } from "./dora.ts";
 * const { deltaM, deltaD } = magnitudeDirectionChange(fromRows([[3, 4]]), fromRows([[6, 8]]));
 * assert.equal(deltaM, 5);
 * assert.ok(Math.abs(deltaD) < 1e-7);
 * ```
 */
export function magnitudeDirectionChange(W0: Matrix, Wtuned: Matrix): { deltaM: number; deltaD: number } {
  assertSameShape(W0, Wtuned, "magnitudeDirectionChange");
  const n0 = rowNorms(W0), nt = rowNorms(Wtuned);
  let dm = 0, dd = 0;
  for (let i = 0; i < W0.rows; i++) {
    let dot = 0;
    for (let j = 0; j < W0.cols; j++) dot += W0.data[i * W0.cols + j] * Wtuned.data[i * W0.cols + j];
    dm += Math.abs(nt[i] - n0[i]);
    dd += 1 - dot / (n0[i] * nt[i] || 1);
  }
  return { deltaM: dm / W0.rows, deltaD: dd / W0.rows };
}
