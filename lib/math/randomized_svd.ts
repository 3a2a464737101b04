/**
 * Randomized truncated SVD (Halko, Martinsson & Tropp 2011), the same algorithm as
 * `torch.svd_lowrank`: a random sketch, `niter` power iterations with re-orthogonalisation, then an
 * exact SVD of the small projected matrix. The big products run on onnxruntime.
 *
 * @module
 */
import { assertFinite, type Matrix, randn } from "./matrix.ts";
import { matmul } from "./matmul.ts";
import { qr } from "./qr.ts";
import { type Svd, svd } from "./svd.ts";

/** Options for {@linkcode randomizedSvd}. */
export interface RandomizedSvdOptions {
  /** Power iterations (default 2, as torch.svd_lowrank). */
  niter?: number;
  /** Extra sketch columns beyond the rank (default 0, as torch.svd_lowrank's q = rank). */
  oversample?: number;
  /** Seed of the random sketch (default 0). */
  seed?: number;
}

/**
 * The top-`rank` singular triplets of `a`.
 *
 * @param a The matrix (m×n).
 * @param rank How many triplets.
 * @param options Power iterations, oversampling, seed.
 * @returns `{ u (m×rank), s (rank), vt (rank×n) }`.
 * @throws {Error} When `rank` exceeds min(m, n), or `a` holds NaN/Infinity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "./matrix.ts";
 * import { randomizedSvd } from "./randomized_svd.ts";
 * const { s } = await randomizedSvd(fromRows([[3, 0, 0], [0, 2, 0], [0, 0, 1]]), 2);
 * assert.deepEqual(Array.from(s, (x) => +x.toFixed(3)), [3, 2]); // approximate: 2.99999, 1.99991
 * ```
 */
export async function randomizedSvd(
  a: Matrix,
  rank: number,
  options: RandomizedSvdOptions = {},
): Promise<Svd> {
  const { niter = 2, oversample = 0, seed = 0 } = options;
  const p = Math.min(a.rows, a.cols);
  if (!Number.isInteger(rank) || rank < 1 || rank > p) {
    throw new Error(
      `randomizedSvd: rank ${rank} must be a whole number from 1 to min(rows, cols) = ${p} for a ${a.rows}×${a.cols} matrix.`,
    );
  }
  const q = Math.min(p, rank + oversample);
  const sketch = await matmul(a, randn(a.cols, q, seed)); // m×q
  // Every entry of `a` is multiplied into its row of the sketch, and NaN or ±Infinity times any
  // number is not finite: checking the m·q sketch spares a pass over all m·n entries of `a`
  // (about 3 ms at 2048²). Only then is `a` searched, to name the bad entry.
  if (!_allFinite(sketch.data)) assertFinite(a, "randomizedSvd input");
  let basis = qr(sketch).q;
  for (let i = 0; i < niter; i++) {
    const z = qr(await matmul(a, basis, { transA: true })).q; // n×q
    basis = qr(await matmul(a, z)).q;
  }
  const b = await matmul(basis, a, { transA: true }); // q×n
  const small = svd(b);
  const u = await matmul(basis, small.u); // m×q
  return { u: _firstCols(u, rank), s: small.s.slice(0, rank), vt: _firstRows(small.vt, rank) };
}

function _allFinite(x: Float32Array): boolean {
  let zero = 0;
  for (let i = 0; i < x.length; i++) zero += x[i] * 0; // NaN as soon as one entry is not finite
  return zero === 0;
}

function _firstCols(m: Matrix, k: number): Matrix {
  if (m.cols === k) return m;
  const data = new Float32Array(m.rows * k);
  for (let i = 0; i < m.rows; i++) data.set(m.data.subarray(i * m.cols, i * m.cols + k), i * k);
  return { rows: m.rows, cols: k, data };
}

function _firstRows(m: Matrix, k: number): Matrix {
  return { rows: k, cols: m.cols, data: m.data.slice(0, k * m.cols) };
}
