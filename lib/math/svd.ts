/**
 * Exact thin SVD by one-sided Jacobi rotations (float64 inside): for small matrices and for the
 * small core of the randomized SVD.
 *
 * @module
 */
import { assertFinite, type Matrix, matrix, transpose } from "./matrix.ts";
import { matmulPlain } from "./matmul.ts";
import { qr } from "./qr.ts";

/** A thin SVD `a = u · diag(s) · vt`, singular values descending. */
export interface Svd {
  /** m×p left singular vectors (columns). */
  u: Matrix;
  /** p singular values, descending. */
  s: Float32Array;
  /** p×n right singular vectors (rows). */
  vt: Matrix;
}

function _jacobiTall(a: Matrix): Svd {
  const { rows: m, cols: n } = a;
  const w = Array.from(
    { length: n },
    (_, j) => Float64Array.from({ length: m }, (_, i) => a.data[i * n + j]),
  );
  const v = Array.from(
    { length: n },
    (_, j) => Float64Array.from({ length: n }, (_, i) => (i === j ? 1 : 0)),
  );
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
  const u = matrix(m, n), vt = matrix(n, n), s = new Float32Array(n);
  order.forEach((j, k) => {
    s[k] = sigma[j];
    for (let i = 0; i < m; i++) u.data[i * n + k] = sigma[j] > 0 ? w[j][i] / sigma[j] : 0;
    for (let i = 0; i < n; i++) vt.data[k * n + i] = v[j][i];
  });
  return { u, s, vt };
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
 * import { fromRows } from "./matrix.ts";
 * import { svd } from "./svd.ts";
 * console.log(Array.from(svd(fromRows([[3, 0], [0, -2]])).s)); // [3, 2]
 * ```
 */
export function svd(a: Matrix): Svd {
  assertFinite(a, "svd input");
  if (a.cols > a.rows) {
    const { u, s, vt } = svd(transpose(a));
    return { u: transpose(vt), s, vt: transpose(u) };
  }
  if (a.rows < 2 * a.cols) return _jacobiTall(a);
  // Much taller than wide: a = Q·R, then the SVD of the small square R (R-SVD, as LAPACK does).
  const { q, r } = qr(a);
  const small = _jacobiTall(r);
  return { u: matmulPlain(q, small.u), s: small.s, vt: small.vt };
}
