/**
 * Training FLOPs counted, not estimated: PyTorch's FlopCounterMode around one forward + backward of a model
 * (`python/count_flops.py`), for a full fine-tune and for LoRA. The full fine-tune's count is what
 * {@linkcode flopsPerToken}'s 6·N + attention formula predicts exactly; LoRA's is lower (≈ 4·N: a frozen weight
 * gets no gradient), which is why MFU by the 6·N convention understates how busy the hardware is under LoRA.
 *
 * @module
 */
import { z } from "zod";
import { absPath, runPythonJob } from "../infer/_python_job.ts";

/** Options of {@linkcode countTrainingFlops}. */
export interface CountTrainingFlopsOptions {
  /** Tokens per row (every row exactly this long; default 64). */
  seqLength?: number;
  /** Rows (default 1). */
  batch?: number;
  /** Which trainings to count (default both). */
  methods?: ("full" | "lora")[];
  /** LoRA's rank (all-linear; default 8). */
  loraR?: number;
  /**
   * The attention implementation: "eager" (default: plain matmuls, backward = 2 × forward as the formula counts) or
   * "sdpa" (the fused kernel; PyTorch counts its backward as 2.5 × the forward, the recomputation of QKᵀ).
   */
  attention?: "eager" | "sdpa";
}

const CountSchema = z.object({
  rows: z.array(z.object({
    method: z.enum(["full", "lora"]),
    flops: z.number(),
    tokens: z.number(),
    perToken: z.number(),
    byOp: z.record(z.string(), z.number()),
  })),
});

/** One counted training step. */
export type CountedFlops = z.infer<typeof CountSchema>["rows"][number];

/**
 * Counts one training step's FLOPs with PyTorch's FlopCounterMode.
 *
 * @param modelDir A local model folder (Llama-style decoder).
 * @param options Sequence length, batch, methods, LoRA rank.
 * @returns One row per method: total FLOPs, tokens, FLOPs per token, and FLOPs by operator.
 * @throws {Error} `Counting FLOPs of <model> failed: …` naming the Python error.
 *
 * @example The built-in model: the count equals the formula for a full fine-tune
 * ```ts
 * import assert from "node:assert/strict";
 * import { countTrainingFlops } from "./flop_count.ts";
 * import { flopsPerToken } from "./mfu.ts";
 * import { readDecoderShape } from "./model_shape.ts";
 * const [full] = await countTrainingFlops("data/models/ince-tiny", { seqLength: 32, methods: ["full"] });
 * assert.equal(full.perToken, flopsPerToken(readDecoderShape("data/models/ince-tiny"), 32).total);
 * ```
 */
export async function countTrainingFlops(
  modelDir: string,
  options: CountTrainingFlopsOptions = {},
): Promise<CountedFlops[]> {
  const job = {
    model: absPath(modelDir),
    seqLength: options.seqLength ?? 64,
    batch: options.batch ?? 1,
    methods: options.methods ?? ["full", "lora"],
    loraR: options.loraR ?? 8,
    attention: options.attention ?? "eager",
  };
  const { rows } = await runPythonJob(
    "train/python/count_flops.py",
    job,
    `Counting FLOPs of ${modelDir}`,
    CountSchema,
  );
  return rows;
}
