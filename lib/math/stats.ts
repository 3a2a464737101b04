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
 * import assert from "node:assert/strict";
 * import { correlation } from "./stats.ts";
 * assert.equal(correlation([1, 2, 3], [3, 2, 1]), -1);
 * assert.ok(Math.abs(correlation([1, 2, 3, 4], [1, 3, 2, 4]) - 0.8) < 1e-12);
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

/** A mean with its sample standard deviation. */
export interface MeanSd {
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  sd: number;
  n: number;
}

/**
 * Mean and sample standard deviation (n − 1 in the denominator, as numpy's `std(ddof=1)`).
 *
 * @param xs The values (at least one).
 * @returns `{ mean, sd, n }`.
 * @throws {RangeError} When no value is given.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanSd } from "./stats.ts";
 * const { mean, sd } = meanSd([2, 4, 4, 4, 5, 5, 7, 9]);
 * assert.equal(mean, 5);
 * assert.ok(Math.abs(sd - 2.138089935299395) < 1e-12); // numpy.std(..., ddof=1)
 * ```
 */
export function meanSd(xs: readonly number[]): MeanSd {
  if (!xs.length) throw new RangeError("meanSd(): needs at least one value");
  const n = xs.length, mean = xs.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, sd, n };
}

/**
 * Whether two seed-averaged results differ by more than their seed-to-seed noise: |mean_a − mean_b| >
 * 2·√(sd_a²/n_a + sd_b²/n_b), i.e. more than twice the standard error of the difference (about a 95 %
 * two-sided test for normal noise; with 3 seeds a conservative reading should still say "suggests").
 *
 * @param a One result.
 * @param b The other.
 * @returns True when the difference exceeds the noise; false when either side has fewer than 2 values (no noise estimate).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exceedsNoise } from "./stats.ts";
 * assert.equal(exceedsNoise({ mean: 3.0, sd: 0.05, n: 3 }, { mean: 3.02, sd: 0.04, n: 3 }), false);
 * assert.equal(exceedsNoise({ mean: 3.0, sd: 0.05, n: 3 }, { mean: 2.5, sd: 0.04, n: 3 }), true);
 * ```
 */
export function exceedsNoise(a: MeanSd, b: MeanSd): boolean {
  if (a.n < 2 || b.n < 2) return false;
  return Math.abs(a.mean - b.mean) > 2 * Math.sqrt(a.sd ** 2 / a.n + b.sd ** 2 / b.n);
}

/**
 * `mean ± sd` as text, e.g. for a table cell.
 *
 * @param m The mean and sd (null: "—").
 * @param digits Decimals (default 3).
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatMeanSd } from "./stats.ts";
 * assert.equal(formatMeanSd({ mean: 2.98, sd: 0.0312, n: 3 }), "2.980 ± 0.031");
 * ```
 */
export function formatMeanSd(m: MeanSd | null, digits = 3): string {
  return m === null ? "—" : `${m.mean.toFixed(digits)} ± ${m.sd.toFixed(digits)}`;
}

/** What {@linkcode histogram} returns: `bins` equal-width bins over `[min, max]`. */
export interface Histogram {
  /** bins + 1 edges, from min to max. */
  edges: number[];
  counts: number[];
}

/**
 * Counts values into equal-width bins (the last bin includes its upper edge).
 *
 * @param values The values.
 * @param options Number of bins (default 30) and the range (default: the values' min and max).
 * @returns Edges and counts.
 * @throws {Error} When bins < 1 or the range is empty or not finite.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { histogram } from "./stats.ts";
 * assert.deepEqual(histogram([0, 0.1, 0.5, 1], { bins: 2 }).counts, [2, 2]);
 * ```
 */
export function histogram(
  values: ArrayLike<number>,
  options: { bins?: number; min?: number; max?: number } = {},
): Histogram {
  const bins = options.bins ?? 30;
  let min = options.min ?? Infinity, max = options.max ?? -Infinity;
  if (options.min === undefined || options.max === undefined) {
    for (let i = 0; i < values.length; i++) {
      if (options.min === undefined) min = Math.min(min, values[i]);
      if (options.max === undefined) max = Math.max(max, values[i]);
    }
  }
  if (!(bins >= 1) || !Number.isFinite(min) || !Number.isFinite(max) || max < min) {
    throw new Error(`histogram: need bins ≥ 1 and a finite range (got ${bins} bins over [${min}, ${max}]).`);
  }
  const width = (max - min) / bins || 1;
  const counts = new Array(bins).fill(0);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v < min || v > max) continue;
    counts[Math.min(bins - 1, Math.floor((v - min) / width))]++;
  }
  return { edges: Array.from({ length: bins + 1 }, (_, k) => min + k * width), counts };
}

/**
 * The standard normal distribution's quantile function Φ⁻¹(p) (Acklam's rational approximation,
 * relative error below 1.2e-9).
 *
 * @param p A probability in (0, 1).
 * @returns z with P(Z ≤ z) = p for Z ~ N(0, 1).
 * @throws {Error} When p is not strictly between 0 and 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalQuantile } from "./stats.ts";
 * assert.equal(normalQuantile(0.5), 0);
 * assert.ok(Math.abs(normalQuantile(0.975) - 1.959963985) < 1e-8);
 * ```
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile: p must be in (0, 1), got ${p}.`);
  if (p === 0.5) return 0;
  const a = [
    -3.969683028665376e1,
    2.209460984245205e2,
    -2.759285104469687e2,
    1.38357751867269e2,
    -3.066479806614716e1,
    2.506628277459239,
  ];
  const b = [
    -5.447609879822406e1,
    1.615858368580409e2,
    -1.556989798598866e2,
    6.680131188771972e1,
    -1.328068155288572e1,
  ];
  const c = [
    -7.784894002430293e-3,
    -3.223964580411365e-1,
    -2.400758277161838,
    -2.549732539343734,
    4.374664141464968,
    2.938163982698783,
  ];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) =>
    (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}
