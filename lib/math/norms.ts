/**
 * Vector norms of a matrix's rows and columns, and the Frobenius norm.
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
 * import { fromRows } from "./matrix.ts";
 * import { rowNorms } from "./norms.ts";
 * console.log(Array.from(rowNorms(fromRows([[3, 4], [0, 1]])))); // [5, 1]
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
 * The L2 norm of each column.
 *
 * @param m The matrix.
 * @returns `m.cols` norms.
 *
 * @example
 * ```ts
 * import { fromRows } from "./matrix.ts";
 * import { colNorms } from "./norms.ts";
 * console.log(Array.from(colNorms(fromRows([[3, 0], [4, 1]])))); // [5, 1]
 * ```
 */
export function colNorms(m: Matrix): Float32Array {
  const acc = new Float64Array(m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) acc[j] += m.data[i * m.cols + j] ** 2;
  return Float32Array.from(acc, Math.sqrt);
}

/**
 * The Frobenius norm (square root of the sum of squares).
 *
 * @param m The matrix.
 * @returns The norm.
 *
 * @example
 * ```ts
 * import { fromRows } from "./matrix.ts";
 * import { frobenius } from "./norms.ts";
 * console.log(frobenius(fromRows([[3, 4]]))); // 5
 * ```
 */
export function frobenius(m: Matrix): number {
  let s = 0;
  for (let i = 0; i < m.data.length; i++) s += m.data[i] ** 2;
  return Math.sqrt(s);
}
