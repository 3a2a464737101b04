/**
 * Facts about a Hub model without downloading it: parameter count and dtypes read from the
 * safetensors *headers* with HTTP range requests, size on disk from the file list, and memory
 * estimates that answer "will this fit in 8 GB?" (the training ones from `estimateTrainingMemory`).
 *
 * @module
 */
import { fetchRepoFile, type RepoFileRef } from "./hub_http.ts";
import type { DownloadOptions } from "./download.ts";
import { fileSize } from "./cache_layout.ts";
import { resolveTree } from "./resolve_tree.ts";
import { DTYPE_BYTES, readSafetensorsHeader, type SafetensorsHeader } from "../math/safetensors.ts";
import { estimateTrainingMemory } from "../train/memory_estimate.ts";
import { type DecoderShape, decoderShape } from "../train/model_shape.ts";
import { nf4BitsPerWeight } from "../quant/nf4_stats.ts";

/** What {@linkcode modelInfo} found. */
export interface ModelInfo {
  repo: string;
  commit: string;
  /** Total parameters (all safetensors files). */
  params: number;
  /** Parameters per dtype, e.g. `{ BF16: 494032768 }`. */
  paramsByDtype: Record<string, number>;
  /** Bytes of all files in the repo at this revision. */
  sizeOnDiskBytes: number;
  /**
   * Memory needs in bytes: `inference` is the weights as stored; the training ones are the peak of one
   * step (see {@linkcode modelInfo} and `notes` for what is counted).
   */
  memory: { inference: number; loraTraining: number; qloraTraining: number };
  /** LoRA trainable parameters assumed for the training estimates. */
  loraParams: number;
  notes: string[];
}

/** Options for {@linkcode modelInfo}: where to look, and the LoRA run to estimate training memory for. */
export interface ModelInfoOptions
  extends Omit<DownloadOptions, "allowPatterns" | "ignorePatterns" | "concurrency" | "progress"> {
  /** LoRA rank for the training estimates (default 16). */
  r?: number;
  /** Targeted modules (default all linear layers of a Llama-style block). */
  targetModules?: string[];
  /** Sequences per step for the training estimates (default 8, the run config's). */
  batchSize?: number;
  /** Tokens per sequence for the training estimates (default 256, the run config's `maxLength`). */
  seqLength?: number;
}

/**
 * Reads a Hub file's safetensors header with two range requests (8 bytes, then the header itself).
 *
 * @param ref Where the file is (as for `fetchRepoFile`).
 * @returns The tensors' dtypes, shapes and offsets.
 * @throws {Error} One line on HTTP errors or a corrupt header.
 *
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { resolveTree, safetensorsHeader } from "./mod.ts";
 * const repo = "Qwen/Qwen2.5-0.5B-Instruct";
 * const { hub, auth, commit } = await resolveTree(repo);
 * const header = await safetensorsHeader({ hub, repo, type: "model", commit, path: "model.safetensors", auth });
 * assert.deepEqual(header["model.embed_tokens.weight"].shape, [151_936, 896]);
 * ```
 */
export async function safetensorsHeader(ref: RepoFileRef): Promise<SafetensorsHeader> {
  return await readSafetensorsHeader(
    async (start, end) =>
      new Uint8Array(await (await fetchRepoFile(ref, { range: `bytes=${start}-${end}` })).res.arrayBuffer()),
    `${ref.repo}: ${ref.path}`,
  );
}

/**
 * Counts a Hub safetensors file's parameters per dtype from its header ({@linkcode safetensorsHeader}).
 *
 * @param ref Where the file is (as for `fetchRepoFile`).
 * @returns Parameters per dtype in that file.
 *
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { resolveTree, safetensorsParams } from "./mod.ts";
 * const repo = "Qwen/Qwen2.5-0.5B-Instruct";
 * const { hub, auth, commit } = await resolveTree(repo);
 * const counts = await safetensorsParams({ hub, repo, type: "model", commit, path: "model.safetensors", auth });
 * assert.equal(counts.BF16, 494_032_768);
 * ```
 */
export async function safetensorsParams(ref: RepoFileRef): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of Object.values(await safetensorsHeader(ref))) {
    counts[t.dtype] = (counts[t.dtype] ?? 0) + t.shape.reduce((a, b) => a * b, 1);
  }
  return counts;
}

/**
 * Parameter count, dtypes, size and memory estimates of a Hub model, without downloading weights.
 *
 * The training estimates are `estimateTrainingMemory`'s peak for one step of LoRA and of QLoRA in
 * bfloat16 on a GPU (activations included, no gradient checkpointing), for a Llama-style
 * `config.json`; for other models, weights and optimizer state only, from a guessed adapter size.
 *
 * @param repo The model id.
 * @param options Revision, token, endpoint; LoRA rank, targets and batch for the training estimates.
 * @returns The facts.
 * @throws {Error} One line on HTTP errors, or when the repo has no safetensors files.
 *
 * @example Will it fit?
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { modelInfo } from "./model_info.ts";
 * const info = await modelInfo("Qwen/Qwen2.5-0.5B-Instruct", { batchSize: 1, seqLength: 512 });
 * assert.equal(info.params, 494_032_768);
 * assert.ok(info.memory.loraTraining < 8 * 2 ** 30); // ≈ 2.7 GiB, activations included
 * ```
 */
export async function modelInfo(repo: string, options: ModelInfoOptions = {}): Promise<ModelInfo> {
  const { hub, auth, commit, tree } = await resolveTree(repo, options);
  const ref = (path: string): RepoFileRef => ({
    hub,
    repo,
    type: "model",
    commit,
    path,
    auth,
    retry: options.retry,
  });
  const shards = Object.keys(tree).filter((f) => f.endsWith(".safetensors")).sort();
  if (shards.length === 0) {
    throw new Error(
      `${repo}: no .safetensors files at ${commit.slice(0, 8)}; modelInfo reads only safetensors headers.`,
    );
  }
  const paramsByDtype: Record<string, number> = {};
  for (const path of shards) {
    for (const [dtype, n] of Object.entries(await safetensorsParams(ref(path)))) {
      paramsByDtype[dtype] = (paramsByDtype[dtype] ?? 0) + n;
    }
  }
  const params = Object.values(paramsByDtype).reduce((a, b) => a + b, 0);
  const weightBytes = Object.entries(paramsByDtype).reduce((s, [d, n]) => s + n * (DTYPE_BYTES[d] ?? 2), 0);
  const sizeOnDiskBytes = Object.values(tree).reduce((s, f) => s + fileSize(f), 0);
  const shape = tree["config.json"]
    ? _decoderShape(await (await fetchRepoFile(ref("config.json"))).res.json())
    : undefined;
  const training = shape ? _estimate(shape, options) : _roughEstimate(params, options);
  return {
    repo,
    commit,
    params,
    paramsByDtype,
    sizeOnDiskBytes,
    memory: { inference: weightBytes, loraTraining: training.lora, qloraTraining: training.qlora },
    loraParams: training.loraParams,
    notes: training.notes,
  };
}

interface _Training {
  lora: number;
  qlora: number;
  loraParams: number;
  notes: string[];
}

function _decoderShape(config: unknown): DecoderShape | undefined {
  try {
    return decoderShape(config);
  } catch {
    return undefined; // not a Llama-style decoder
  }
}

/** Both training peaks from the estimator. */
function _estimate(shape: DecoderShape, options: ModelInfoOptions): _Training {
  const batchSize = options.batchSize ?? 8, seqLength = options.seqLength ?? 256, r = options.r ?? 16;
  const run = (method: "lora" | "qlora") =>
    estimateTrainingMemory(shape, {
      method,
      batchSize,
      seqLength,
      r,
      targetModules: options.targetModules ?? "all-linear",
      dtype: "bfloat16",
      device: "cuda",
    });
  const lora = run("lora"), qlora = run("qlora");
  return {
    lora: lora.peakBytes,
    qlora: qlora.peakBytes,
    loraParams: lora.trainableParams,
    notes: [
      `Training: the peak of one step of LoRA r=${r} on ${
        options.targetModules?.join(", ") ?? "all linear layers"
      } with AdamW, batch ${batchSize} × ${seqLength} tokens, bfloat16 on a GPU, no gradient checkpointing ` +
      "(estimateTrainingMemory; QLoRA: NF4 weights). Inference: the weights only; add the KV cache for generation.",
    ],
  };
}

/** Without a Llama-style config: weights and optimizer state, with an adapter of ~0.5 % of the model. */
function _roughEstimate(params: number, options: ModelInfoOptions): _Training {
  const loraParams = Math.round(params * 0.005);
  const adapterState = loraParams * 16; // fp32 weight, gradient and AdamW's two moments
  return {
    lora: params * 2 + adapterState,
    qlora: (params * nf4BitsPerWeight()) / 8 + adapterState,
    loraParams,
    notes: [
      "config.json is missing or not Llama-shaped: LoRA parameters assumed to be 0.5 % of the model.",
      "Weights and optimizer state only: add activations (grow with batch × sequence length; gradient checkpointing shrinks them) and the KV cache for generation.",
      `Training estimates assume LoRA r=${options.r ?? 16} with AdamW.`,
    ],
  };
}
