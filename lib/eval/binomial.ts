/**
 * How sure a measured rate is: the Wilson score interval for a binomial proportion (Wilson, 1927),
 * which stays inside [0, 1] and behaves at 0 % and 100 %, unlike the textbook `p ± 1.96·√(p(1−p)/n)`.
 *
 * @module
 */
import { normalQuantile } from "../math/stats.ts";

/** A rate with its interval. */
export interface RateInterval {
  rate: number;
  low: number;
  high: number;
}

/**
 * The Wilson score interval: `(p + z²/2n ± z·√(p(1−p)/n + z²/4n²)) / (1 + z²/n)`.
 *
 * @param successes How many succeeded.
 * @param n Out of how many.
 * @param options Confidence (default 0.95).
 * @returns The rate and its interval.
 * @throws {Error} When the counts are not whole numbers with 0 ≤ successes ≤ n, or n is 0.
 *
 * @example 8 of 20, and 0 of 10
 * ```ts
 * import assert from "node:assert/strict";
 * import { binomialInterval } from "./binomial.ts";
 * const { low, high } = binomialInterval(8, 20);
 * assert.ok(Math.abs(low - 0.2188) < 1e-4 && Math.abs(high - 0.6134) < 1e-4);
 * assert.equal(binomialInterval(0, 10).low, 0);
 * ```
 */
export function binomialInterval(
  successes: number,
  n: number,
  options: { confidence?: number } = {},
): RateInterval {
  if (!Number.isInteger(successes) || !Number.isInteger(n) || n < 1 || successes < 0 || successes > n) {
    throw new Error(
      `binomialInterval: need whole numbers 0 ≤ successes ≤ n and n ≥ 1 (got ${successes} of ${n}).`,
    );
  }
  const confidence = options.confidence ?? 0.95;
  const z = normalQuantile(1 - (1 - confidence) / 2);
  const p = successes / n, z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
  return { rate: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}

/**
 * A rate as a percentage with its 95 % Wilson interval, e.g. `40% [22–61%]`.
 *
 * @param successes How many succeeded.
 * @param n Out of how many.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRate } from "./binomial.ts";
 * assert.equal(formatRate(8, 20), "40% [22–61%]");
 * ```
 */
export function formatRate(successes: number, n: number): string {
  const { rate, low, high } = binomialInterval(successes, n);
  const pct = (x: number) => Math.round(100 * x);
  return `${pct(rate)}% [${pct(low)}–${pct(high)}%]`;
}

/**
 * The reading rule the lessons state for two measured rates: a difference counts as real only when the two
 * intervals do not overlap (conservative: non-overlapping 95 % intervals mean p < 0.05 and more).
 *
 * @param a One rate's interval.
 * @param b The other's.
 * @returns True when they do not overlap.
 *
 * @example 100 % of 40 against 3 % of 40, and 8 of 20 against 10 of 20
 * ```ts
 * import assert from "node:assert/strict";
 * import { binomialInterval, intervalsDisjoint } from "./binomial.ts";
 * assert.equal(intervalsDisjoint(binomialInterval(40, 40), binomialInterval(1, 40)), true);
 * assert.equal(intervalsDisjoint(binomialInterval(8, 20), binomialInterval(10, 20)), false);
 * ```
 */
export function intervalsDisjoint(
  a: Pick<RateInterval, "low" | "high">,
  b: Pick<RateInterval, "low" | "high">,
): boolean {
  return a.high < b.low || b.high < a.low;
}
