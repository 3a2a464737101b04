/**
 * Facts about a Hub model without downloading it: parameter count and dtypes read from the
 * safetensors *headers* with HTTP range requests, size on disk from the file list, and a memory
 * estimate that answers "will this fit in 8 GB?".
 *
 * @module
 */
import { type DownloadOptions, fetchRepoFile, type RepoFileRef, resolveTree } from "./download.ts";
import { hubCacheDir } from "./hub_env.ts";
import { repoFolderName } from "./repo_id.ts";
import { DTYPE_BYTES, readSafetensorsHeader, type SafetensorsHeader } from "../math/safetensors.ts";
import { linearShapes, loraTrainableParams, type ModelShape } from "../adapters/lora.ts";
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
  /** Rough memory needs in bytes; see `notes` for what is and is not counted. */
  memory: { inference: number; loraTraining: number; qloraTraining: number };
  /** LoRA trainable parameters assumed for the training estimates. */
  loraParams: number;
  notes: string[];
}

/** Options for {@linkcode modelInfo}: download options plus the LoRA set-up to estimate for. */
export interface ModelInfoOptions
  extends Omit<DownloadOptions, "allowPatterns" | "ignorePatterns" | "concurrency" | "progress"> {
  /** LoRA rank for the training estimates (default 16). */
  r?: number;
  /** Targeted modules (default all linear layers of a Llama-style block). */
  targetModules?: string[];
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
 * const header = await safetensorsHeader({ hub, repo, type: "model", commit, path: "model.safetensors", auth: {} });
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
 * const counts = await safetensorsParams({ hub, repo, type: "model", commit, path: "model.safetensors", auth: {} });
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
 * @param repo The model id.
 * @param options Revision, token, endpoint; LoRA rank and targets for the training estimates.
 * @returns The facts.
 * @throws {Error} One line on HTTP errors, or when the repo has no safetensors files.
 *
 * @example Will it fit?
 * ```ts ignore
 * import { modelInfo } from "./model_info.ts";
 * const info = await modelInfo("Qwen/Qwen2.5-0.5B-Instruct");
 * console.log((info.memory.qloraTraining / 2 ** 30).toFixed(1), "GiB for QLoRA");
 * ```
 */
export async function modelInfo(repo: string, options: ModelInfoOptions = {}): Promise<ModelInfo> {
  const env = options.env ?? Deno.env.toObject();
  const storage = `${options.cacheDir ?? hubCacheDir(env)}/${repoFolderName(repo, "model")}`;
  const { hub, auth, commit, tree } = await resolveTree(
    repo,
    "model",
    storage,
    options.revision ?? "main",
    options,
    env,
  );
  const shards = Object.keys(tree).filter((f) => f.endsWith(".safetensors")).sort();
  if (shards.length === 0) {
    throw new Error(
      `${repo}: no .safetensors files at ${commit.slice(0, 8)}; modelInfo reads only safetensors headers.`,
    );
  }
  const paramsByDtype: Record<string, number> = {};
  for (const path of shards) {
    for (
      const [dtype, n] of Object.entries(
        await safetensorsParams({ hub, repo, type: "model", commit, path, auth }),
      )
    ) {
      paramsByDtype[dtype] = (paramsByDtype[dtype] ?? 0) + n;
    }
  }
  const params = Object.values(paramsByDtype).reduce((a, b) => a + b, 0);
  const weightBytes = Object.entries(paramsByDtype).reduce((s, [d, n]) => s + n * (DTYPE_BYTES[d] ?? 2), 0);
  const sizeOnDiskBytes = Object.values(tree).reduce((s, f) => s + (f.lfs_size ?? f.size), 0);

  // LoRA parameters from config.json when it is Llama-shaped, else ~0.5 % of the model.
  const r = options.r ?? 16;
  let loraParams = Math.round(params * 0.005);
  const notes: string[] = [];
  if (tree["config.json"]) {
    const res = (await fetchRepoFile({ hub, repo, type: "model", commit, path: "config.json", auth })).res;
    const config = (await res.json()) as ModelShape;
    if (
      config.hidden_size && config.intermediate_size && config.num_hidden_layers && config.num_attention_heads
    ) {
      loraParams = loraTrainableParams(config, {
        r,
        targetModules: options.targetModules ?? Object.keys(linearShapes(config)),
      });
    } else notes.push("config.json is not Llama-shaped: LoRA parameters assumed to be 0.5 % of the model.");
  }
  // Trainable parameters in fp32 with their gradient and two Adam moments: 16 bytes each.
  const adapterState = loraParams * 16;
  const bf16 = params * 2;
  const nf4 = (params * nf4BitsPerWeight()) / 8; // NF4 with double-quantized scales (QLoRA)
  notes.push(
    "Weights and optimizer state only: add activations (grow with batch × sequence length; gradient checkpointing shrinks them) and the KV cache for generation.",
    `Training estimates assume LoRA r=${r} on ${
      options.targetModules?.join(", ") ?? "all linear layers"
    } with AdamW.`,
  );
  return {
    repo,
    commit,
    params,
    paramsByDtype,
    sizeOnDiskBytes,
    memory: { inference: weightBytes, loraTraining: bf16 + adapterState, qloraTraining: nf4 + adapterState },
    loraParams,
    notes,
  };
}
