/**
 * Padding waste: what a padded batch spends on positions that are not tokens. Rows of a batch are padded to its
 * longest row, every position goes through the model, and only the real tokens count; padding-free batching and
 * packing (`train.paddingFree`, `train.packing`) lay rows end to end instead.
 *
 * @module
 */

/** What a sequence of padded batches holds. */
export interface PaddingCount {
  /** Real tokens. */
  tokens: number;
  /** Positions the model computes: Σ over batches of rows × longest row. */
  positions: number;
  /** `1 − tokens / positions`: the share of the compute spent on padding. */
  fraction: number;
}

/**
 * Counts the padding of rows batched in the given order, each batch padded to its longest row (the last batch may
 * be short).
 *
 * @param lengths Each row's length in tokens, in batch order.
 * @param batchSize Rows per batch.
 * @returns Tokens, positions and the padding fraction.
 * @throws {Error} When batchSize is not a whole number ≥ 1 or a length is negative.
 *
 * @example Two batches of two: [3, 5] pads to 10 positions, [2, 2] to 4
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchPadding } from "./padding.ts";
 * assert.deepEqual(batchPadding([3, 5, 2, 2], 2), { tokens: 12, positions: 14, fraction: 1 - 12 / 14 });
 * assert.equal(batchPadding([4, 4, 4], 3).fraction, 0);
 * ```
 */
export function batchPadding(lengths: readonly number[], batchSize: number): PaddingCount {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchPadding: batchSize must be a whole number ≥ 1, got ${batchSize}`);
  }
  let tokens = 0, positions = 0;
  for (let i = 0; i < lengths.length; i += batchSize) {
    const batch = lengths.slice(i, i + batchSize);
    for (const n of batch) {
      if (!(n >= 0)) throw new Error(`batchPadding: length ${i} is ${n}; lengths are token counts ≥ 0`);
      tokens += n;
    }
    positions += batch.length * Math.max(...batch);
  }
  return { tokens, positions, fraction: positions === 0 ? 0 : 1 - tokens / positions };
}
