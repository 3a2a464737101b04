/**
 * Thin QR by modified Gram–Schmidt with re-orthogonalisation, in float64 inside.
 *
 * @module
 */
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
 * import { fromRows } from "./matrix.ts";
 * import { qr } from "./qr.ts";
 * const { q } = qr(fromRows([[3, 1], [4, 1], [0, 1]]));
 * console.log(Math.round(q.data[0] * 10) / 10); // 0.6
 * ```
 */
export function qr(a: Matrix): { q: Matrix; r: Matrix } {
  const { rows: m, cols: k } = a;
  if (k > m) throw new Error(`qr: needs a tall matrix (rows ≥ columns); got ${m}×${k}. Transpose it first.`);
  // Column-major float64 copy: column j is w[j*m .. (j+1)*m).
  const w = new Float64Array(m * k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) w[j * m + i] = a.data[i * k + j];
  const r = new Float64Array(k * k);
  for (let j = 0; j < k; j++) {
    const vj = j * m;
    // Two passes ("twice is enough") keep Q orthogonal to working precision.
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        const up = p * m;
        let d = 0;
        for (let i = 0; i < m; i++) d += w[up + i] * w[vj + i];
        for (let i = 0; i < m; i++) w[vj + i] -= d * w[up + i];
        r[p * k + j] += d;
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += w[vj + i] * w[vj + i];
    norm = Math.sqrt(norm);
    r[j * k + j] = norm;
    const inv = norm > 1e-30 ? 1 / norm : 0;
    for (let i = 0; i < m; i++) w[vj + i] *= inv;
  }
  const q = matrix(m, k);
  for (let i = 0; i < m; i++) for (let j = 0; j < k; j++) q.data[i * k + j] = w[j * m + i];
  return { q, r: matrix(k, k, Float32Array.from(r)) };
}
