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
  // Work column-major in float64: column j at cols[j].
  const cols = Array.from({ length: k }, (_, j) => {
    const c = new Float64Array(m);
    for (let i = 0; i < m; i++) c[i] = a.data[i * k + j];
    return c;
  });
  const r = matrix(k, k);
  for (let j = 0; j < k; j++) {
    const v = cols[j];
    // Two passes ("twice is enough") keep Q orthogonal to working precision.
    for (let pass = 0; pass < 2; pass++) {
      for (let p = 0; p < j; p++) {
        const u = cols[p];
        let d = 0;
        for (let i = 0; i < m; i++) d += u[i] * v[i];
        for (let i = 0; i < m; i++) v[i] -= d * u[i];
        r.data[p * k + j] += d;
      }
    }
    let norm = 0;
    for (let i = 0; i < m; i++) norm += v[i] * v[i];
    norm = Math.sqrt(norm);
    r.data[j * k + j] = norm;
    if (norm > 1e-30) { for (let i = 0; i < m; i++) v[i] /= norm; }
  }
  const q = matrix(m, k);
  for (let j = 0; j < k; j++) for (let i = 0; i < m; i++) q.data[i * k + j] = cols[j][i];
  return { q, r };
}
