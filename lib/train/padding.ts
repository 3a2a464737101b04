/**
 * Padding waste: what a padded batch spends on positions that are not tokens. Rows of a batch are padded to its
 * longest row, every position goes through the model, and only the real tokens count; padding-free batching and
 * packing (`train.paddingFree`, `train.packing`) lay rows end to end instead.
 *
 * @module
 */
import { seededUniform } from "../math/matrix.ts";

/** What a sequence of padded batches holds. */
export interface PaddingCount {
  /** Real tokens. */
  tokens: number;
  /** Positions the model computes: Σ over batches of rows × longest row. */
  positions: number;
  /** `1 − tokens / positions`: the share of the compute spent on padding. */
  fraction: number;
  /**
   * Query × key pairs the attention computes, by how the batch is laid out:
   * - `padded`: each batch a rows × longest rectangle, Σ B·max²;
   * - `denseMask`: padding-free rows laid end to end as ONE sequence with a block-diagonal mask that the kernel
   *   still computes in full (PyTorch's SDPA and eager attention), Σ (Σ sᵢ)²;
   * - `varlen`: a kernel that skips the masked blocks (flash-attention's variable-length path on a GPU), Σ sᵢ².
   */
  attentionPairs: { padded: number; denseMask: number; varlen: number };
}

/**
 * Counts the padding of rows batched in the given order, each batch padded to its longest row (the last batch may
 * be short).
 *
 * @param lengths Each row's length in tokens, in batch order.
 * @param batchSize Rows per batch.
 * @returns Tokens, positions, the padding fraction, and the attention's query × key pairs per layout.
 * @throws {Error} When batchSize is not a whole number ≥ 1 or a length is negative.
 *
 * @example Two batches of two: [3, 5] pads to 10 positions, [2, 2] to 4
 * ```ts
 * import assert from "node:assert/strict";
 * import { batchPadding } from "./padding.ts";
 * const p = batchPadding([3, 5, 2, 2], 2);
 * assert.deepEqual([p.tokens, p.positions, p.fraction], [12, 14, 1 - 12 / 14]);
 * assert.deepEqual(p.attentionPairs, { padded: 2 * 25 + 2 * 4, denseMask: 64 + 16, varlen: 9 + 25 + 4 + 4 });
 * assert.equal(batchPadding([4, 4, 4], 3).fraction, 0);
 * ```
 */
export function batchPadding(lengths: readonly number[], batchSize: number): PaddingCount {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new Error(`batchPadding: batchSize must be a whole number ≥ 1, got ${batchSize}`);
  }
  let tokens = 0, positions = 0;
  const pairs = { padded: 0, denseMask: 0, varlen: 0 };
  for (let i = 0; i < lengths.length; i += batchSize) {
    const batch = lengths.slice(i, i + batchSize);
    let sum = 0;
    for (const n of batch) {
      if (!(n >= 0)) throw new Error(`batchPadding: length ${i} is ${n}; lengths are token counts ≥ 0`);
      sum += n;
      pairs.varlen += n * n;
    }
    const longest = Math.max(...batch);
    tokens += sum;
    positions += batch.length * longest;
    pairs.padded += batch.length * longest * longest;
    pairs.denseMask += sum * sum;
  }
  return { tokens, positions, fraction: positions === 0 ? 0 : 1 - tokens / positions, attentionPairs: pairs };
}

/** Options of {@linkcode randomOrderPadding}. */
export interface RandomOrderPaddingOptions {
  /** How many random orders to add up (default 20). */
  orders?: number;
  /** Seed of the first order (default 1; order k uses seed + k). */
  seed?: number;
}

/**
 * The padding of rows batched in random order, as a trainer's shuffling sampler batches them: the counts of
 * {@linkcode batchPadding} added up over several seeded shuffles (Fisher–Yates), so `fraction` is the expected
 * share of padding and `attentionPairs` the expected pairs per layout, times `orders`.
 *
 * @param lengths Each row's length in tokens.
 * @param batchSize Rows per batch.
 * @param options How many orders, and the seed.
 * @returns The summed counts; `fraction` is over all of them.
 *
 * @example Equal lengths never pad, whatever the order
 * ```ts
 * import assert from "node:assert/strict";
 * import { randomOrderPadding } from "./padding.ts";
 * assert.equal(randomOrderPadding([5, 5, 5, 5], 2).fraction, 0);
 * const p = randomOrderPadding([1, 9, 1, 9], 2, { orders: 50 });
 * assert.equal(p.tokens, 50 * 20);
 * assert.ok(p.fraction > 0 && p.fraction < 1 - 20 / 36); // some orders pair 1 with 9, some do not
 * ```
 */
export function randomOrderPadding(
  lengths: readonly number[],
  batchSize: number,
  options: RandomOrderPaddingOptions = {},
): PaddingCount {
  const orders = options.orders ?? 20, seed = options.seed ?? 1;
  const sum: PaddingCount = {
    tokens: 0,
    positions: 0,
    fraction: 0,
    attentionPairs: { padded: 0, denseMask: 0, varlen: 0 },
  };
  for (let k = 0; k < orders; k++) {
    const uniform = seededUniform(seed + k), order = [...lengths];
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(uniform() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const p = batchPadding(order, batchSize);
    sum.tokens += p.tokens;
    sum.positions += p.positions;
    for (const key of ["padded", "denseMask", "varlen"] as const) {
      sum.attentionPairs[key] += p.attentionPairs[key];
    }
  }
  sum.fraction = sum.positions === 0 ? 0 : 1 - sum.tokens / sum.positions;
  return sum;
}
