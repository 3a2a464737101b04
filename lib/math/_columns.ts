/**
 * Column work in float64 shared by {@linkcode qr} and {@linkcode svd}: a tall matrix held as one
 * `Float64Array` per column, so every inner loop walks contiguous memory.
 *
 * @module
 */
import type { Matrix } from "./matrix.ts";

/**
 * The columns of `a` as float64 arrays, or of `aᵀ` (that is, `a`'s rows) when `transposed`.
 *
 * @param a The matrix.
 * @param transposed Take the columns of `aᵀ`.
 * @returns One array per column.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "./matrix.ts";
 * import { columnsOf } from "./_columns.ts";
 * const a = fromRows([[1, 2], [3, 4]]);
 * assert.deepEqual(columnsOf(a, false).map((c) => Array.from(c)), [[1, 3], [2, 4]]);
 * assert.deepEqual(columnsOf(a, true).map((c) => Array.from(c)), [[1, 2], [3, 4]]);
 * ```
 */
export function columnsOf(a: Matrix, transposed: boolean): Float64Array[] {
  const { rows, cols, data } = a;
  if (transposed) {
    return Array.from({ length: rows }, (_, i) => Float64Array.from(data.subarray(i * cols, (i + 1) * cols)));
  }
  return Array.from({ length: cols }, (_, j) => {
    const c = new Float64Array(rows);
    for (let i = 0, o = j; i < rows; i++, o += cols) c[i] = data[o];
    return c;
  });
}

/**
 * The row-major float32 matrix whose columns (or rows, when `asRows`) are `cols`.
 *
 * @param cols Equal-length columns.
 * @param asRows Lay each array out as a row instead (gives the transpose).
 * @returns The matrix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toRows } from "./matrix.ts";
 * import { fromColumns } from "./_columns.ts";
 * const cols = [Float64Array.of(1, 3), Float64Array.of(2, 4)];
 * assert.deepEqual(toRows(fromColumns(cols, false)), [[1, 2], [3, 4]]);
 * assert.deepEqual(toRows(fromColumns(cols, true)), [[1, 3], [2, 4]]);
 * ```
 */
export function fromColumns(cols: Float64Array[], asRows: boolean): Matrix {
  const k = cols.length, m = cols[0]?.length ?? 0;
  const data = new Float32Array(m * k);
  if (asRows) cols.forEach((c, j) => data.set(c, j * m));
  else for (let j = 0; j < k; j++) for (let i = 0, c = cols[j], o = j; i < m; i++, o += k) data[o] = c[i];
  return asRows ? { rows: k, cols: m, data } : { rows: m, cols: k, data };
}

/**
 * Orthonormalises `cols` in place by modified Gram–Schmidt, run twice ("twice is enough" keeps
 * Q orthogonal to working precision), and returns `R` with `original = Q·R`.
 *
 * Each sweep over a column subtracts one projection and takes the next dot product in the same
 * loop, so a column of length m is read 2j + 2 times rather than 4j + 2.
 *
 * @param cols k columns of length m (m ≥ k); replaced by Q's columns. A column left with a norm
 *   ≤ 1e-30 after the projections (dependent on the ones before it) becomes zero, as does R's diagonal.
 * @returns R, k×k upper triangular, row-major.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gramSchmidt } from "./_columns.ts";
 * const cols = [Float64Array.of(3, 4, 0), Float64Array.of(1, 1, 1)];
 * const r = gramSchmidt(cols);
 * assert.deepEqual(Array.from(cols[0], (x) => +x.toFixed(12)), [0.6, 0.8, 0]);
 * assert.equal(r[0], 5); // ‖first column‖
 * assert.ok(Math.abs(cols[0][0] * cols[1][0] + cols[0][1] * cols[1][1]) < 1e-15);
 * ```
 */
export function gramSchmidt(cols: Float64Array[]): Float64Array {
  const k = cols.length, m = cols[0]?.length ?? 0;
  const r = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    const v = cols[j];
    let norm = 0;
    if (j === 0) { for (let i = 0; i < m; i++) norm += v[i] * v[i]; }
    else {
      // Projections onto u_0 … u_{j-1}, twice over: step t uses u_{t mod j}.
      let u = cols[0], d = 0;
      for (let i = 0; i < m; i++) d += u[i] * v[i];
      for (let t = 1; t < 2 * j; t++) {
        const next = cols[t % j];
        let dn = 0;
        for (let i = 0; i < m; i++) {
          const x = v[i] - d * u[i];
          v[i] = x;
          dn += next[i] * x;
        }
        r[((t - 1) % j) * k + j] += d;
        u = next;
        d = dn;
      }
      for (let i = 0; i < m; i++) {
        const x = v[i] - d * u[i];
        v[i] = x;
        norm += x * x;
      }
      r[(j - 1) * k + j] += d;
    }
    norm = Math.sqrt(norm);
    r[j * k + j] = norm;
    const inv = norm > 1e-30 ? 1 / norm : 0;
    for (let i = 0; i < m; i++) v[i] *= inv;
  }
  return r;
}
