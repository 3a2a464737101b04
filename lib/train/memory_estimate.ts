/**
 * Where training memory goes, term by term, for a Llama-style decoder: frozen weights (16/32-bit or
 * NF4), adapter weights, gradients, optimizer state, the activations autograd keeps for the backward
 * pass, and the loss's buffers. Each term's formula is in {@linkcode TrainingMemoryEstimate.formulas}.
 *
 * The counts follow what the real engines keep (read from their code and checked against PyTorch's
 * own allocator peak by `tests/memory_estimate_test.ts`): PEFT keeps adapter weights in fp32 and casts
 * their inputs to fp32; `prepare_model_for_kbit_training` casts every non-4-bit weight to fp32 (so the
 * residual stream of a QLoRA run is fp32); TRL's SFT loss scores tokens in tiles of 4096 rows through a
 * buffer 32768 columns wide (`trl/kernels/chunked_logprob.py`) instead of materialising the logits.
 *
 * @module
 */
import { linearShapes, loraTrainableParams } from "../adapters/lora.ts";
import { decoderParams, type DecoderShape } from "./model_shape.ts";
import { nf4BitsPerWeight } from "../quant/nf4_stats.ts";

/** Training methods the estimator knows (the run config's presets of the same names). */
export type MemoryMethod = "full" | "lora" | "dora" | "qlora" | "qdora";

/** What to estimate: the method, the batch, and the settings that change memory. */
export interface TrainingMemoryOptions {
  method: MemoryMethod;
  batchSize: number;
  /** Tokens per sequence after padding/truncation (every sequence assumed this long). */
  seqLength: number;
  /** LoRA rank (default 16). */
  r?: number;
  /** Default `"all-linear"` (the seven projections). */
  targetModules?: "all-linear" | string[];
  /** LoRA dropout (default 0.05, the run config's): each adapted input keeps a dropped copy and a mask. */
  dropout?: number;
  /** Weights' and activations' dtype (default float32, as on a CPU; GPUs train in bfloat16). */
  dtype?: "float32" | "bfloat16" | "float16";
  gradientCheckpointing?: boolean;
  /** AdamW keeps two fp32 moments; bitsandbytes' 8-bit AdamW (paged or not) two bytes plus block scales. */
  optimizer?: "adamw" | "adamw-8bit";
  /**
   * Where it trains (default cpu). A GPU changes two things: TRL's loss tiles run in a Triton kernel (no
   * tile-sized temporaries), and AdamW updates all tensors at once (`foreach`), with a state-sized scratch copy.
   */
  device?: "cpu" | "cuda";
  /**
   * How the loss is computed: TRL's tiled log-probabilities (`chunked-torch` on a CPU, `chunked-triton` on a
   * GPU: the default for the device), or transformers' full logits (`full-logits`, e.g. DPO).
   */
  loss?: "chunked-torch" | "chunked-triton" | "full-logits";
  /** NF4 with double-quantized block scales (QLoRA's default, true). */
  doubleQuant?: boolean;
}

/** The terms of an estimate, in bytes. */
export interface MemoryTerms {
  weights: number;
  adapterWeights: number;
  gradients: number;
  optimizerState: number;
  activations: number;
  lossBuffers: number;
  /** Dequantized copies of a 4-bit weight while it is used (one matrix at a time). */
  quantTemporaries: number;
  /**
   * With gradient checkpointing, one layer's activations are rebuilt during the backward pass, after the
   * loss's buffers are freed: how much more that needs than the loss buffers (0 without checkpointing).
   */
  recomputedLayer: number;
  /** AdamW's scratch space during `optimizer.step()` (one state-sized copy, e.g. √v). */
  optimizerTemporaries: number;
}

/** Which terms are alive together: at the end of the forward pass + loss, or during the optimizer step. */
export const MEMORY_PHASES = {
  "forward+loss": [
    "weights",
    "adapterWeights",
    "optimizerState",
    "activations",
    "lossBuffers",
    "quantTemporaries",
    "recomputedLayer",
  ],
  "optimizer step": ["weights", "adapterWeights", "optimizerState", "gradients", "optimizerTemporaries"],
} as const satisfies Record<string, readonly (keyof MemoryTerms)[]>;

/** What {@linkcode estimateTrainingMemory} returns. */
export interface TrainingMemoryEstimate {
  terms: MemoryTerms;
  /** The highest total over the step: the larger of the two phases' sums (see {@linkcode MEMORY_PHASES}). */
  peakBytes: number;
  peakPhase: keyof typeof MEMORY_PHASES;
  /** Each phase's total. */
  phaseBytes: Record<keyof typeof MEMORY_PHASES, number>;
  trainableParams: number;
  /** Each term's formula, in words and symbols. */
  formulas: Record<keyof MemoryTerms, string>;
}

const DTYPE_BYTES = { float32: 4, bfloat16: 2, float16: 2 } as const;
/** TRL's tile sizes (trl/kernels/chunked_logprob.py: TOKEN_CHUNK_SIZE; utils._CHUNKED_LOGPROB_CHUNK_SIZE). */
const TOKEN_TILE = 4096, VOCAB_TILE = 32768;
/** Tile-sized fp32 tensors alive in the torch fallback of TRL's backward tile (y, z, log p, p, grad, the product). */
const TORCH_TILE_COPIES = 7;

/**
 * Estimates the memory of one training step.
 *
 * @param shape The model's shape (`readDecoderShape`).
 * @param options Method, batch, sequence length and the settings that change memory.
 * @returns The terms, the peak and the formulas.
 * @throws {Error} On a batch or length < 1, or a target module the model does not have.
 *
 * @example The built-in model, LoRA, batch 4 × 128 on a CPU (measured peak: 145 MB)
 * ```ts
 * import assert from "node:assert/strict";
 * import { estimateTrainingMemory, readDecoderShape } from "../train/mod.ts";
 * const e = estimateTrainingMemory(readDecoderShape("data/models/ince-tiny"), { method: "lora", batchSize: 4, seqLength: 128 });
 * assert.equal(e.trainableParams, 248_320);
 * assert.ok(Math.abs(e.peakBytes / 145_021_172 - 1) < 0.15);
 * ```
 */
export function estimateTrainingMemory(
  shape: DecoderShape,
  options: TrainingMemoryOptions,
): TrainingMemoryEstimate {
  const { method, batchSize: B, seqLength: S } = options;
  if (!(Number.isInteger(B) && B >= 1) || !(Number.isInteger(S) && S >= 1)) {
    throw new Error(
      `estimateTrainingMemory: batchSize and seqLength must be whole numbers ≥ 1 (got ${B}, ${S}).`,
    );
  }
  const r = options.r ?? 16, p = options.dropout ?? 0.05, gc = options.gradientCheckpointing ?? false;
  const full = method === "full", quant = method === "qlora" || method === "qdora";
  const dora = method === "dora" || method === "qdora";
  const a = DTYPE_BYTES[options.dtype ?? "float32"];
  const hB = quant ? 4 : a; // the residual stream's bytes (fp32 after prepare_model_for_kbit_training)
  const shapes = linearShapes(shape);
  const targets = full || !options.targetModules || options.targetModules === "all-linear"
    ? Object.keys(shapes)
    : options.targetModules;
  for (const t of targets) {
    if (!shapes[t]) {
      throw new Error(
        `estimateTrainingMemory: unknown target "${t}"; use some of ${Object.keys(shapes).join(", ")}.`,
      );
    }
  }
  const has = (...names: string[]) => names.some((n) => targets.includes(n));
  const L = shape.num_hidden_layers, h = shape.hidden_size, I = shape.intermediate_size, V = shape.vocab_size;
  const d = shape.head_dim ?? h / shape.num_attention_heads, q = shape.num_attention_heads * d;
  const params = decoderParams(shape);
  const T = B * S;

  const trainable = full ? params.total : loraTrainableParams(shape, { r, targetModules: targets }) +
    (dora ? L * targets.reduce((s, t) => s + shapes[t][1], 0) : 0);
  const weights = quant
    ? params.linear * nf4BitsPerWeight({ doubleQuant: options.doubleQuant }) / 8 + params.other * 4
    : params.total * a;
  const adapterWeights = full ? 0 : trainable * 4;
  const gradients = trainable * (full ? a : 4);
  // Trained tensors: each has its own AdamW `step` counter (a float32 scalar in torch).
  const untied = shape.tie_word_embeddings ? 0 : 1;
  const biases = (shape.attention_bias ?? shape.model_type === "qwen2") ? 3 : 0;
  const tensors = full ? L * (7 + 2 + biases) + 2 + untied : L * targets.length * (dora ? 3 : 2);
  const optimizerState = options.optimizer === "adamw-8bit"
    ? 2 * trainable + 2 * Math.ceil(trainable / 256) * 4
    : 2 * trainable * (full ? a : 4) + 4 * tensors;

  // Saved for backward, per token and layer (bytes).
  const cast = !full && a !== 4; // PEFT casts each adapter input to the adapter's fp32
  const inputs = targets.map((t) => shapes[t][0]);
  const layer = 2 * h * hB + // the two RMSNorm inputs
    (has("q_proj", "k_proj", "v_proj") || full ? h * hB : 0) + // normed input of q/k/v
    (has("gate_proj", "up_proj") || full ? h * hB : 0) + // normed input of gate/up
    (full ? 2 * h * hB : 0) + // normalized inputs for the norm weights' gradients
    4 * q * a + // attention: q, k and v (repeated to every head) and its output (o_proj's input)
    3 * I * a + // MLP: gate output, silu(gate), up output
    (has("down_proj") || full ? I * a : 0) + // down_proj's input
    (full ? 0 : 4 * r * targets.length) + // lora_A outputs (fp32)
    (cast ? 4 * inputs.reduce((x, y) => x + y, 0) : 0) +
    (!full && p > 0
      ? (cast ? 4 : a) * inputs.reduce((x, y) => x + y, 0) + inputs.reduce((x, y) => x + y, 0)
      : 0) +
    (dora ? 2 * a * targets.reduce((s, t) => s + shapes[t][1], 0) : 0); // DoRA: base and LoRA outputs
  const finalNorm = 2 * h * hB;
  const activations = gc ? T * (L * h * hB + finalNorm) : T * (L * layer + finalNorm);
  const N = B * (S - 1), rows = Math.min(N, TOKEN_TILE);
  const gpu = options.device === "cuda";
  const loss = options.loss ?? (gpu ? "chunked-triton" : "chunked-torch");
  const lossBuffers = loss === "full-logits"
    ? T * V * (a < 4 ? a + 16 : 16)
    : rows * VOCAB_TILE * a + N * h * 4 +
      (loss === "chunked-torch" ? TORCH_TILE_COPIES * rows * Math.min(V, VOCAB_TILE) * 4 : 0);
  const largestTrainable = full
    ? Math.max(V * h, ...Object.values(shapes).map(([i, o]) => i * o))
    : r * Math.max(...targets.flatMap((t) => shapes[t]));
  const quantTemporaries = quant ? Math.max(...Object.values(shapes).map(([i, o]) => i * o)) * a : 0;

  const terms: MemoryTerms = {
    weights,
    adapterWeights,
    gradients,
    optimizerState,
    activations,
    lossBuffers,
    quantTemporaries,
    recomputedLayer: gc ? Math.max(0, T * layer - lossBuffers) : 0,
    // foreach AdamW (GPU) computes each op over all tensors at once; the CPU loop needs one tensor's worth.
    optimizerTemporaries: (gpu ? trainable : largestTrainable) * (full ? a : 4),
  };
  const sum = (phase: keyof typeof MEMORY_PHASES) => MEMORY_PHASES[phase].reduce((s, k) => s + terms[k], 0);
  const phaseBytes = { "forward+loss": sum("forward+loss"), "optimizer step": sum("optimizer step") };
  const peakPhase = phaseBytes["forward+loss"] >= phaseBytes["optimizer step"]
    ? "forward+loss"
    : "optimizer step";
  return {
    terms,
    peakBytes: phaseBytes[peakPhase],
    peakPhase,
    phaseBytes,
    trainableParams: trainable,
    formulas: {
      weights: quant
        ? `linear weights × ${
          nf4BitsPerWeight({ doubleQuant: options.doubleQuant }).toFixed(3)
        } bits (NF4) + other weights × 4 B (fp32)`
        : `parameters × ${a} B`,
      adapterWeights: full ? "none (full fine-tune)" : "trainable × 4 B (PEFT keeps adapters in fp32)",
      gradients: `trainable × ${full ? a : 4} B`,
      optimizerState: options.optimizer === "adamw-8bit"
        ? "trainable × 2 B (8-bit m, v) + a 4-byte scale per 256"
        : `trainable × 2 moments × ${full ? a : 4} B + a 4-byte step counter per trained tensor (AdamW)`,
      activations: gc
        ? "tokens × (layers × h [the layers' inputs] + final norm); one layer rebuilt in backward"
        : "tokens × (layers × per-layer saved tensors + final norm): norms 2h, normed inputs, attention 4·heads·d, MLP 3I (+I), lora_A outputs r·targets, dropout copies + masks, DoRA 2·Σout",
      lossBuffers: loss === "full-logits"
        ? "tokens × vocab × (logits + fp32 log-softmax + gradients)"
        : `min(tokens, ${TOKEN_TILE}) × ${VOCAB_TILE} × ${a} B (TRL's tile buffer)` +
          (loss === "chunked-torch" ? ` + ${TORCH_TILE_COPIES} fp32 tiles (torch fallback)` : "") +
          " + tokens × h × 4 B",
      quantTemporaries: quant ? "the largest linear weight dequantized to the compute dtype" : "none",
      recomputedLayer: gc
        ? "max(0, tokens × one layer's saved tensors − loss buffers)"
        : "none (no checkpointing)",
      optimizerTemporaries: gpu
        ? `trainable × ${full ? a : 4} B (foreach AdamW: one state-sized scratch copy)`
        : `the largest trained tensor × ${full ? a : 4} B (AdamW updates one tensor at a time on a CPU)`,
    },
  };
}
