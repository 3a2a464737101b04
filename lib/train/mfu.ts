/**
 * Model FLOPs per token and MFU (model FLOPs utilisation), the convention of PaLM (Chowdhery et al. 2022,
 * appendix B). A training step costs, per token,
 *
 *     6·N + 12·L·(heads·head_dim)·S
 *
 * - N: the parameters that take part in matrix multiplies — each layer's seven projections plus the output layer
 *   (vocab × hidden, counted once even when tied: the input embedding is a lookup). Forward 2·N, backward 4·N.
 * - The attention term: QKᵀ and attention·V over S positions in L layers, forward and backward, counted in full
 *   although a causal mask makes half of it zeros. S is the token-weighted mean sequence length, Σ sᵢ² / Σ sᵢ.
 * - LoRA freezes the base, whose weights then get no gradient: the hardware does ≈ 4·N, the convention still says
 *   6·N (the same model FLOPs for every method, so MFUs compare). The trainer's Python twin is
 *   `python/flops.py`; tests/throughput_test.ts checks both against PyTorch's FlopCounterMode.
 *
 * MFU = tokens/s × FLOPs per token / peak FLOP/s, the peak from `data/gpu_peak_flops.json` (vendors' dense
 * figures by GPU name and dtype).
 *
 * @module
 */
import { projectRoot } from "../env/paths.ts";
import { decoderParams, type DecoderShape } from "./model_shape.ts";
import type { PaddingCount } from "./padding.ts";

/** Training FLOPs per token, split into its parts. */
export interface FlopsPerToken {
  /** 6·N + attention. */
  total: number;
  /** 6·N. */
  dense: number;
  /** 12·L·heads·head_dim·S. */
  attention: number;
  /** N: the parameters in matrix multiplies (layers' projections + output layer). */
  matmulParams: number;
}

/**
 * Training FLOPs per token of a Llama-style decoder (6·N + 12·L·heads·head_dim·S).
 *
 * @param shape The model's shape (`readDecoderShape`).
 * @param seqLength S, the (token-weighted mean) sequence length.
 * @returns The total and its parts.
 *
 * @example Qwen2.5-0.5B at 512 tokens: 2.96 GFLOP of weights, 0.13 GFLOP of attention per token
 * ```ts
 * import assert from "node:assert/strict";
 * import { flopsPerToken } from "./mfu.ts";
 * import { readDecoderShape } from "./model_shape.ts";
 * const f = flopsPerToken(readDecoderShape("data/models/shapes/qwen2.5-0.5b"), 512);
 * assert.equal(f.matmulParams, 493_961_216);
 * assert.equal(f.attention, 12 * 24 * 14 * 64 * 512);
 * assert.equal(f.total, 6 * 493_961_216 + 12 * 24 * 14 * 64 * 512);
 * ```
 */
export function flopsPerToken(shape: DecoderShape, seqLength: number): FlopsPerToken {
  const headDim = shape.head_dim ?? shape.hidden_size / shape.num_attention_heads;
  const matmulParams = decoderParams(shape).linear + shape.vocab_size * shape.hidden_size;
  const dense = 6 * matmulParams;
  const attention = 12 * shape.num_hidden_layers * shape.num_attention_heads * headDim * seqLength;
  return { total: dense + attention, dense, attention, matmulParams };
}

/**
 * The token-weighted mean sequence length S = Σ sᵢ² / Σ sᵢ: the length the average token attends over.
 *
 * @param lengths The sequences' lengths in tokens.
 * @returns S (0 for no tokens).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { attentionSeqLength } from "./mfu.ts";
 * assert.equal(attentionSeqLength([512, 512]), 512);
 * assert.equal(attentionSeqLength([1, 3]), 2.5); // (1 + 9) / 4: most tokens sit in the long sequence
 * ```
 */
export function attentionSeqLength(lengths: readonly number[]): number {
  const sum = lengths.reduce((a, b) => a + b, 0);
  return sum === 0 ? 0 : lengths.reduce((a, s) => a + s * s, 0) / sum;
}

/** Inputs of {@linkcode modelFlopsUtilization}. */
export interface MfuInput {
  /** Real (non-padding) training tokens per second. */
  tokensPerSecond: number;
  /** Training FLOPs per token ({@linkcode flopsPerToken}'s `total`). */
  flopsPerToken: number;
  /** The accelerator's peak FLOP/s for the dtype trained in ({@linkcode peakFlops}). */
  peakFlops: number;
}

/**
 * MFU: the model FLOP/s achieved, as a fraction of the accelerator's peak.
 *
 * @param input Tokens/s, FLOPs per token and the peak.
 * @returns A fraction (0.35 = 35 %).
 * @throws {Error} When the peak is not a positive number.
 *
 * @example 35k tokens/s of Qwen2.5-0.5B at 512 tokens on an H100 (989.4 TFLOP/s bf16): 11.0 %
 * ```ts
 * import assert from "node:assert/strict";
 * import { flopsPerToken, modelFlopsUtilization } from "./mfu.ts";
 * import { readDecoderShape } from "./model_shape.ts";
 * const f = flopsPerToken(readDecoderShape("data/models/shapes/qwen2.5-0.5b"), 512).total;
 * const mfu = modelFlopsUtilization({ tokensPerSecond: 35_000, flopsPerToken: f, peakFlops: 989.4e12 });
 * assert.equal(mfu.toFixed(3), "0.110");
 * ```
 */
export function modelFlopsUtilization(input: MfuInput): number {
  if (!(input.peakFlops > 0)) {
    throw new Error(
      `modelFlopsUtilization: peakFlops must be > 0, got ${input.peakFlops}; look it up with peakFlops(gpuName, dtype)`,
    );
  }
  return input.tokensPerSecond * input.flopsPerToken / input.peakFlops;
}

/** One row of `data/gpu_peak_flops.json`. */
export interface GpuPeak {
  name: string;
  /** A case-insensitive regular expression tried against the GPU's name (and on ROCm its gfx arch). */
  match: string;
  bfloat16: number | null;
  float16: number | null;
  float32: number | null;
  /** Where the figure comes from (a datasheet, or how it was computed). */
  source: string;
}

let _table: GpuPeak[] | undefined;

/**
 * The peak FLOP/s table (`data/gpu_peak_flops.json`), in match order.
 *
 * @returns Its rows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { gpuPeakTable } from "./mfu.ts";
 * assert.ok(gpuPeakTable().some((g) => g.name === "NVIDIA H100 SXM" && g.bfloat16 === 989.4e12));
 * ```
 */
export function gpuPeakTable(): readonly GpuPeak[] {
  _table ??= JSON.parse(Deno.readTextFileSync(`${projectRoot()}/data/gpu_peak_flops.json`)).gpus as GpuPeak[];
  return _table;
}

/**
 * A GPU's peak dense FLOP/s for a dtype, by its reported name (`torch.cuda.get_device_name()`), as the trainer
 * looks it up.
 *
 * @param gpuName The name, e.g. "NVIDIA H100 80GB HBM3".
 * @param dtype "bfloat16", "float16" or "float32".
 * @param arch The ROCm gfx arch (e.g. "gfx1103"), when the name is generic.
 * @returns `{ flops, source, name }`, or null for an unknown GPU (or a dtype it has no figure for).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { peakFlops } from "./mfu.ts";
 * assert.equal(peakFlops("NVIDIA H100 80GB HBM3", "bfloat16")?.flops, 989.4e12);
 * assert.equal(peakFlops("NVIDIA H100 PCIe", "bfloat16")?.flops, 756.5e12);
 * assert.equal(peakFlops("AMD Radeon Graphics", "bfloat16", "gfx1103")?.name, "AMD Radeon 780M (gfx1103)");
 * assert.equal(peakFlops("Some Future GPU", "bfloat16"), null);
 * ```
 */
export function peakFlops(
  gpuName: string,
  dtype: "bfloat16" | "float16" | "float32",
  arch?: string,
): { flops: number; source: string; name: string } | null {
  for (const row of gpuPeakTable()) {
    const re = new RegExp(row.match, "i");
    if (re.test(gpuName) || (arch !== undefined && re.test(arch))) {
      const flops = row[dtype];
      return flops ? { flops, source: row.source, name: row.name } : null;
    }
  }
  return null;
}

/**
 * Model FLOPs per real token of a set of batches in each layout ({@linkcode batchPadding}'s counts): 6·N per
 * position fed plus 12·L·heads·head_dim per query × key pair, divided by the real tokens.
 * - `padded`: every padded position goes through the model, attention over each rows × longest rectangle;
 * - `denseMask`: padding-free, attention computed over the whole end-to-end sequence and masked (SDPA, eager);
 * - `varlen`: padding-free with a kernel that computes each row's own block only (flash-attention's varlen path).
 *
 * @param shape The model's shape.
 * @param count The batches' counts.
 * @returns FLOPs per real token, by layout.
 *
 * @example One batch of rows of 1 and 3 tokens
 * ```ts
 * import assert from "node:assert/strict";
 * import { layoutFlopsPerToken } from "./mfu.ts";
 * import { batchPadding } from "./padding.ts";
 * const shape = { hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2, vocab_size: 10 };
 * const f = layoutFlopsPerToken(shape, batchPadding([1, 3], 2));
 * const n = 8 * 8 * 4 + 3 * 8 * 16 + 10 * 8, pair = 12 * 1 * 8;
 * assert.deepEqual(f, { padded: (6 * n * 6 + pair * 18) / 4, denseMask: (6 * n * 4 + pair * 16) / 4, varlen: (6 * n * 4 + pair * 10) / 4 });
 * ```
 */
export function layoutFlopsPerToken(
  shape: DecoderShape,
  count: PaddingCount,
): { padded: number; denseMask: number; varlen: number } {
  const { matmulParams } = flopsPerToken(shape, 0);
  const perPair = flopsPerToken(shape, 1).attention;
  const per = (positions: number, pairs: number) =>
    (6 * matmulParams * positions + perPair * pairs) / count.tokens;
  return {
    padded: per(count.positions, count.attentionPairs.padded),
    denseMask: per(count.tokens, count.attentionPairs.denseMask),
    varlen: per(count.tokens, count.attentionPairs.varlen),
  };
}
