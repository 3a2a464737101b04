/**
 * The L2 norm of each row of a matrix, and the Frobenius norm.
 *
 * @module
 */
import type { Matrix } from "./matrix.ts";

/**
 * The L2 norm of each row (for a weight `out × in`: one norm per output, PEFT's DoRA convention).
 *
 * @param m The matrix.
 * @returns `m.rows` norms.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "./matrix.ts";
 * import { rowNorms } from "./norms.ts";
 * assert.deepEqual(Array.from(rowNorms(fromRows([[3, 4], [0, 1]]))), [5, 1]);
 * ```
 */
export function rowNorms(m: Matrix): Float32Array {
  const out = new Float32Array(m.rows);
  for (let i = 0; i < m.rows; i++) {
    let s = 0;
    for (let j = 0, o = i * m.cols; j < m.cols; j++) s += m.data[o + j] ** 2;
    out[i] = Math.sqrt(s);
  }
  return out;
}

/**
 * The Frobenius norm (square root of the sum of squares).
 *
 * @param m The matrix.
 * @returns The norm.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "./matrix.ts";
 * import { frobenius } from "./norms.ts";
 * assert.equal(frobenius(fromRows([[3, 4]])), 5);
 * ```
 */
export function frobenius(m: Matrix): number {
  let s = 0;
  for (let i = 0; i < m.data.length; i++) s += m.data[i] ** 2;
  return Math.sqrt(s);
}
