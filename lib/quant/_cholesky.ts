/**
 * Cholesky factorisation and the inverse of a symmetric positive definite matrix, in float64, for
 * GPTQ. Private to `lib/quant`.
 *
 * @module
 */

/**
 * Lower-triangular `L` with `A = L·Lᵀ` (row-major `n × n`, float64).
 *
 * @throws {Error} When `A` is not positive definite (a pivot ≤ 0), naming the column.
 */
export function _choleskyLower(a: Float64Array, n: number, what: string): Float64Array {
  const l = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    let d = a[j * n + j];
    for (let k = 0; k < j; k++) d -= l[j * n + k] ** 2;
    if (!(d > 0)) {
      throw new Error(`${what} is not positive definite at column ${j}; raise the damping (e.g. damp: 0.1).`);
    }
    const ljj = Math.sqrt(d);
    l[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = a[i * n + j];
      for (let k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = s / ljj;
    }
  }
  return l;
}

/** `A⁻¹ = L⁻ᵀ·L⁻¹` from the lower Cholesky factor `L` of `A`. */
export function _inverseFromCholesky(l: Float64Array, n: number): Float64Array {
  // M = L⁻¹, lower triangular, by forward substitution column by column.
  const m = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    m[j * n + j] = 1 / l[j * n + j];
    for (let i = j + 1; i < n; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s -= l[i * n + k] * m[k * n + j];
      m[i * n + j] = s / l[i * n + i];
    }
  }
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = i; k < n; k++) s += m[k * n + i] * m[k * n + j];
      inv[i * n + j] = s;
      inv[j * n + i] = s;
    }
  }
  return inv;
}
