/**
 * A small dense float32 matrix, row-major, over a typed array.
 *
 * @module
 */

/** A dense row-major float32 matrix. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** `rows * cols` values, row after row. */
  readonly data: Float32Array;
}

/**
 * Makes a matrix (zeros, or wrapping `data` without copying).
 *
 * @param rows Number of rows.
 * @param cols Number of columns.
 * @param data Optional values, row-major, of length `rows * cols`.
 * @returns The matrix.
 * @throws {Error} When the sizes are not whole numbers or `data` has the wrong length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrix } from "./matrix.ts";
 * const m = matrix(2, 3);
 * assert.deepEqual(Array.from(m.data), [0, 0, 0, 0, 0, 0]);
 * ```
 */
export function matrix(rows: number, cols: number, data?: Float32Array | number[]): Matrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) {
    throw new Error(`A matrix needs whole, non-negative sizes; got ${rows}×${cols}.`);
  }
  const values = data === undefined ? new Float32Array(rows * cols) : Float32Array.from(data);
  if (values.length !== rows * cols) {
    throw new Error(`A ${rows}×${cols} matrix needs ${rows * cols} values; got ${values.length}.`);
  }
  return { rows, cols, data: values };
}

/**
 * Makes a matrix from nested arrays (one array per row).
 *
 * @param rows The rows; all of the same length.
 * @returns The matrix.
 * @throws {Error} When rows differ in length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "./matrix.ts";
 * const m = fromRows([[1, 2], [3, 4], [5, 6]]);
 * assert.deepEqual([m.rows, m.cols, Array.from(m.data)], [3, 2, [1, 2, 3, 4, 5, 6]]);
 * ```
 */
export function fromRows(rows: number[][]): Matrix {
  const cols = rows[0]?.length ?? 0;
  rows.forEach((r, i) => {
    if (r.length !== cols) throw new Error(`Row ${i} has ${r.length} values; row 0 has ${cols}.`);
  });
  return matrix(rows.length, cols, rows.flat());
}

/**
 * Nested arrays from a matrix (for display and tests).
 *
 * @param m The matrix.
 * @returns One array per row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, toRows } from "./matrix.ts";
 * assert.deepEqual(toRows(fromRows([[1, 2], [3, 4]])), [[1, 2], [3, 4]]);
 * ```
 */
export function toRows(m: Matrix): number[][] {
  return Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
}

/**
 * The transpose.
 *
 * @param m The matrix.
 * @returns A new `cols × rows` matrix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, toRows, transpose } from "./matrix.ts";
 * assert.deepEqual(toRows(transpose(fromRows([[1, 2, 3]]))), [[1], [2], [3]]);
 * ```
 */
export function transpose(m: Matrix): Matrix {
  const out = new Float32Array(m.rows * m.cols);
  const { rows, cols, data } = m;
  // Blocked so both sides stay in cache for large matrices.
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    for (let j0 = 0; j0 < cols; j0 += B) {
      const iMax = Math.min(i0 + B, rows), jMax = Math.min(j0 + B, cols);
      for (let i = i0; i < iMax; i++) for (let j = j0; j < jMax; j++) out[j * rows + i] = data[i * cols + j];
    }
  }
  return { rows: cols, cols: rows, data: out };
}

/**
 * `a + s·b`, element-wise.
 *
 * @param a First matrix.
 * @param b Second matrix, same shape.
 * @param s Scale of `b` (default 1; -1 subtracts).
 * @returns A new matrix.
 * @throws {Error} On a shape mismatch, naming both shapes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { addScaled, fromRows, toRows } from "./matrix.ts";
 * assert.deepEqual(toRows(addScaled(fromRows([[1, 1]]), fromRows([[1, 2]]), -1)), [[0, -1]]);
 * ```
 */
export function addScaled(a: Matrix, b: Matrix, s = 1): Matrix {
  assertSameShape(a, b, "addScaled");
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < out.length; i++) out[i] = a.data[i] + s * b.data[i];
  return { rows: a.rows, cols: a.cols, data: out };
}

/**
 * Throws a clear error unless `a` and `b` have the same shape.
 *
 * @param a First matrix.
 * @param b Second matrix.
 * @param what The operation, for the message.
 * @throws {Error} e.g. "addScaled: shapes differ: 2×3 vs 3×2."
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertSameShape, matrix } from "./matrix.ts";
 * assertSameShape(matrix(2, 3), matrix(2, 3), "addScaled"); // same shape: no error
 * assert.throws(() => assertSameShape(matrix(2, 3), matrix(3, 2), "addScaled"), /addScaled: shapes differ: 2×3 vs 3×2\./);
 * ```
 */
export function assertSameShape(a: Matrix, b: Matrix, what: string): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new Error(`${what}: shapes differ: ${a.rows}×${a.cols} vs ${b.rows}×${b.cols}.`);
  }
}

/**
 * Throws a clear error when a matrix holds NaN or ±Infinity.
 *
 * @param m The matrix.
 * @param name Its name, for the message.
 * @throws {Error} Naming the first bad entry's row and column.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertFinite, fromRows } from "./matrix.ts";
 * assertFinite(fromRows([[0, 1]]), "W"); // all finite: no error
 * assert.throws(() => assertFinite(fromRows([[0, 1], [Infinity, 2]]), "W"), /W \(2×2\) holds Infinity at row 1, column 0/);
 * ```
 */
export function assertFinite(m: Matrix, name: string): void {
  for (let i = 0; i < m.data.length; i++) {
    if (!Number.isFinite(m.data[i])) {
      throw new Error(
        `${name} (${m.rows}×${m.cols}) holds ${m.data[i]} at row ${Math.floor(i / m.cols)}, column ${
          i % m.cols
        }: ` +
          "check the weights you loaded (a diverged run or a bad dtype conversion).",
      );
    }
  }
}

/**
 * Seeded standard-normal random matrix (for sketches and tests): same seed, same numbers.
 *
 * @param rows Number of rows.
 * @param cols Number of columns.
 * @param seed The seed (default 0).
 * @returns The matrix.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { randn } from "./matrix.ts";
 * assert.deepEqual(randn(2, 2, 1), randn(2, 2, 1));
 * assert.notDeepEqual(randn(2, 2, 1), randn(2, 2, 2));
 * ```
 */
/**
 * A seeded stream of uniform numbers in (0, 1) (mulberry32): the same seed gives the same stream.
 *
 * @param seed Any integer.
 * @returns A function giving the next number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seededUniform } from "./matrix.ts";
 * const a = seededUniform(3), b = seededUniform(3);
 * assert.equal(a(), b());
 * assert.ok(a() > 0 && a() < 1);
 * ```
 */
export function seededUniform(seed: number): () => number {
  let s = (seed * 0x9e3779b1 + 0x7f4a7c15) >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
}

export function randn(rows: number, cols: number, seed = 0): Matrix {
  const uniform = seededUniform(seed);
  const m = matrix(rows, cols);
  for (let i = 0; i < m.data.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform())), th = 2 * Math.PI * uniform();
    m.data[i] = r * Math.cos(th);
    if (i + 1 < m.data.length) m.data[i + 1] = r * Math.sin(th);
  }
  return m;
}
