/**
 * Small statistics for reading results.
 *
 * @module
 */

/**
 * Pearson's correlation coefficient of two equally long series.
 *
 * @param xs First series.
 * @param ys Second series.
 * @returns r in [−1, 1] (NaN when a series is constant).
 * @throws {RangeError} When the lengths differ or fewer than 2 points are given.
 *
 * @example
 * ```ts
 * import { correlation } from "./stats.ts";
 * console.log(correlation([1, 2, 3], [3, 2, 1]).toFixed(3)); // -1.000
 * ```
 */
export function correlation(xs: readonly number[], ys: readonly number[]): number {
  if (xs.length !== ys.length || xs.length < 2) {
    throw new RangeError(
      `correlation(): needs two series of equal length ≥ 2, got ${xs.length} and ${ys.length}`,
    );
  }
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}
