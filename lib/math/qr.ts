/**
 * Thin QR by modified Gram–Schmidt with re-orthogonalisation, in float64 inside.
 *
 * @module
 */
import { columnsOf, fromColumns, gramSchmidt } from "./_columns.ts";
import { type Matrix, matrix } from "./matrix.ts";

/**
 * The orthonormal factor `Q` (m×k) of a tall matrix `a` (m×k, m ≥ k), and `R` (k×k) with `a = Q·R`.
 *
 * @param a A tall matrix.
 * @returns `{ q, r }`.
 * @throws {Error} When `a` is wider than tall.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, toRows } from "./matrix.ts";
 * import { qr } from "./qr.ts";
 * const { q, r } = qr(fromRows([[3, 1], [4, 1], [0, 1]]));
 * assert.deepEqual(toRows(q)[0].map((x) => +x.toFixed(4)), [0.6, 0.1569]);
 * assert.deepEqual(toRows(r).map((row) => row.map((x) => +x.toFixed(4))), [[5, 1.4], [0, 1.0198]]);
 * ```
 */
export function qr(a: Matrix): { q: Matrix; r: Matrix } {
  const { rows: m, cols: k } = a;
  if (k > m) throw new Error(`qr: needs a tall matrix (rows ≥ columns); got ${m}×${k}. Transpose it first.`);
  const cols = columnsOf(a, false);
  const r = gramSchmidt(cols);
  return { q: k === 0 ? matrix(m, 0) : fromColumns(cols, false), r: matrix(k, k, Float32Array.from(r)) };
}
