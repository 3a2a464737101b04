/**
 * pass@k: the chance that at least one of k sampled programs passes the tests, estimated without bias
 * from n ≥ k samples of which c passed (Chen et al., 2021, "Evaluating Large Language Models Trained on
 * Code"): `1 − C(n−c, k) / C(n, k)`, computed as a product so that large n does not overflow.
 *
 * @module
 */

/**
 * The unbiased pass@k estimate for one task.
 *
 * @param n Samples drawn.
 * @param c Samples that passed.
 * @param k The k of pass@k (≤ n).
 * @returns The probability that a random k of the n samples contain at least one pass.
 * @throws {Error} When the counts are not whole numbers with 0 ≤ c ≤ n and 1 ≤ k ≤ n.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { passAtK } from "./pass_at_k.ts";
 * assert.ok(Math.abs(passAtK(10, 3, 1) - 0.3) < 1e-12); // pass@1 is the pass rate
 * assert.equal(passAtK(10, 0, 5), 0);
 * assert.ok(Math.abs(passAtK(4, 1, 2) - 0.5) < 1e-12); // 1 − C(3,2)/C(4,2) = 1 − 3/6
 * ```
 */
export function passAtK(n: number, c: number, k: number): number {
  if (![n, c, k].every(Number.isInteger) || c < 0 || c > n || k < 1 || k > n) {
    throw new Error(`passAtK: need whole numbers 0 ≤ c ≤ n and 1 ≤ k ≤ n (got n=${n}, c=${c}, k=${k}).`);
  }
  if (n - c < k) return 1;
  // C(n−c, k) / C(n, k) = Π_{i=n−c+1}^{n} (1 − k/i)
  let fail = 1;
  for (let i = n - c + 1; i <= n; i++) fail *= 1 - k / i;
  return 1 - fail;
}

/**
 * pass@k over tasks: the mean of each task's estimate.
 *
 * @param results Each task's samples `n` and passes `c`.
 * @param k The k.
 * @returns The mean (0 for no tasks).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanPassAtK } from "./pass_at_k.ts";
 * assert.equal(meanPassAtK([{ n: 5, c: 5 }, { n: 5, c: 0 }], 1), 0.5);
 * ```
 */
export function meanPassAtK(results: readonly { n: number; c: number }[], k: number): number {
  return results.length ? results.reduce((s, r) => s + passAtK(r.n, r.c, k), 0) / results.length : 0;
}
