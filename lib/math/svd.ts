/**
 * Exact thin SVD by one-sided Jacobi rotations (float64 inside): for small matrices and for the
 * small core of the randomized SVD.
 *
 * @module
 */
import { columnsOf, fromColumns, gramSchmidt } from "./_columns.ts";
import { assertFinite, type Matrix, matrix } from "./matrix.ts";

/** A thin SVD `a = u · diag(s) · vt`, singular values descending. */
export interface Svd {
  /** m×p left singular vectors (columns). */
  u: Matrix;
  /** p singular values, descending. */
  s: Float32Array;
  /** p×n right singular vectors (rows). */
  vt: Matrix;
}

/** Columns `w` (rotated in place) = U·diag(s)·Vᵀ, as columns of U and V, s descending. */
function _jacobi(w: Float64Array[]): { u: Float64Array[]; s: Float64Array; v: Float64Array[] } {
  const n = w.length, m = w[0]?.length ?? 0;
  const v = Array.from({ length: n }, (_, j) => {
    const e = new Float64Array(n);
    e[j] = 1;
    return e;
  });
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const wp = w[p], wq = w[q];
        let alpha = 0, beta = 0, gamma = 0;
        for (let i = 0; i < m; i++) {
          alpha += wp[i] * wp[i];
          beta += wq[i] * wq[i];
          gamma += wp[i] * wq[i];
        }
        if (Math.abs(gamma) <= 1e-15 * Math.sqrt(alpha * beta) || gamma === 0) continue;
        rotated = true;
        const zeta = (beta - alpha) / (2 * gamma);
        const t = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const c = 1 / Math.sqrt(1 + t * t), s = c * t;
        for (let i = 0; i < m; i++) {
          const x = wp[i], y = wq[i];
          wp[i] = c * x - s * y;
          wq[i] = s * x + c * y;
        }
        const vp = v[p], vq = v[q];
        for (let i = 0; i < n; i++) {
          const x = vp[i], y = vq[i];
          vp[i] = c * x - s * y;
          vq[i] = s * x + c * y;
        }
      }
    }
    if (!rotated) break;
  }
  const sigma = w.map((c) => Math.sqrt(c.reduce((acc, x) => acc + x * x, 0)));
  const order = sigma.map((_, i) => i).sort((x, y) => sigma[y] - sigma[x]);
  return {
    u: order.map((j) => sigma[j] > 0 ? w[j].map((x) => x / sigma[j]) : new Float64Array(m)),
    s: Float64Array.from(order, (j) => sigma[j]),
    v: order.map((j) => v[j]),
  };
}

/**
 * The exact thin SVD of a small matrix (cost grows as m·n²; use {@linkcode randomizedSvd} from
 * `randomized_svd.ts` for large ones).
 *
 * @param a The matrix (m×n).
 * @returns `{ u (m×p), s (p), vt (p×n) }` with p = min(m, n).
 * @throws {Error} When `a` holds NaN or Infinity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, toRows } from "./matrix.ts";
 * import { svd } from "./svd.ts";
 * const { u, s, vt } = svd(fromRows([[3, 0], [0, -2]]));
 * assert.deepEqual(Array.from(s), [3, 2]);
 * assert.deepEqual(toRows(u), [[1, 0], [0, -1]]);
 * assert.deepEqual(toRows(vt), [[1, 0], [0, 1]]);
 * ```
 */
export function svd(a: Matrix): Svd {
  assertFinite(a, "svd input");
  // Work on the tall one, t = a or aᵀ: t = U·S·Vᵀ, so a = V·S·Uᵀ when a is wide.
  const wide = a.cols > a.rows;
  const cols = columnsOf(a, wide);
  const m = wide ? a.cols : a.rows, p = cols.length;
  if (p === 0) return { u: matrix(a.rows, 0), s: new Float32Array(0), vt: matrix(0, a.cols) };
  let f: { u: Float64Array[]; s: Float64Array; v: Float64Array[] };
  if (m < 2 * p) f = _jacobi(cols);
  else {
    // Much taller than wide: t = Q·R, then the SVD of the small square R (R-SVD, as LAPACK does).
    const r = gramSchmidt(cols);
    const small = _jacobi(
      Array.from({ length: p }, (_, j) => Float64Array.from({ length: p }, (_, i) => r[i * p + j])),
    );
    const u = small.u.map((uk) => {
      const col = new Float64Array(m); // Q · (column k of U_R)
      for (let j = 0; j < p; j++) for (let i = 0, c = uk[j], q = cols[j]; i < m; i++) col[i] += c * q[i];
      return col;
    });
    f = { u, s: small.s, v: small.v };
  }
  const s = Float32Array.from(f.s);
  return wide
    ? { u: fromColumns(f.v, false), s, vt: fromColumns(f.u, true) }
    : { u: fromColumns(f.u, false), s, vt: fromColumns(f.v, true) };
}
