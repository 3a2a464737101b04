/**
 * Where NF4's 16 levels come from (QLoRA, Dettmers et al. 2023, and bitsandbytes' `create_normal_map`):
 * quantiles of a standard normal distribution, because trained weights are roughly normal, so each
 * level is used about equally often. Eight positive quantiles at probabilities evenly spaced from
 * `offset` down to ½, seven negative ones the same way, and an exact zero; divided by the largest.
 *
 * @module
 */
import { normalQuantile } from "../math/stats.ts";

/**
 * The NF4 levels rebuilt from normal quantiles.
 *
 * @param offset The highest probability used (bitsandbytes: 0.9677083, so that the outermost levels
 *   sit in the middle of the normal's outer tails rather than at ±∞).
 * @returns 16 ascending levels from −1 to 1, with 0 among them.
 *
 * @example The rebuilt levels are NF4's published ones
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalFloatLevels } from "./nf4_levels.ts";
 * import { NF4_CODEBOOK } from "./nf4.ts";
 * const levels = normalFloatLevels();
 * levels.forEach((v, i) => assert.ok(Math.abs(v - NF4_CODEBOOK[i]) < 1e-6, `level ${i}`));
 * ```
 */
export function normalFloatLevels(offset = 0.9677083): number[] {
  const between = (n: number) =>
    Array.from({ length: n - 1 }, (_, i) => offset + (0.5 - offset) * i / (n - 1));
  const positive = between(9).map(normalQuantile); // 8 levels
  const negative = between(8).map((p) => -normalQuantile(p)); // 7 levels
  const levels = [...negative, 0, ...positive].sort((a, b) => a - b);
  const max = Math.max(...levels);
  return levels.map((v) => v / max);
}
