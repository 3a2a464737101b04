/**
 * The run config: one zod schema with every default in one place. The trainer process
 * (`python/trainer.py`) receives the parsed config with defaults filled in, and re-checks the
 * essentials for configs written by hand.
 *
 * @module
 */
import { z } from "zod";

/** Fine-tuning methods, all through PEFT. */
export const METHODS = ["lora", "dora", "pissa", "olora", "rslora", "qlora", "qdora"] as const;

/** The run config schema (input: what a lesson writes; output: defaults filled). */
export const RunConfigSchema = z.object({
  /** A model folder, or a Hub id already in the cache (see `downloadModel`). */
  model: z.string().min(1, "name a model folder or Hub id"),
  dataset: z.object({
    train: z.string().min(1),
    eval: z.string().optional(),
  }),
  method: z.enum(METHODS).default("lora"),
  stage: z.enum(["sft", "dpo"]).default("sft"),
  lora: z.object({
    r: z.number().int("rank must be a whole number").min(1, "rank must be at least 1").default(16),
    alpha: z.number().positive().default(32),
    dropout: z.number().min(0).max(1).default(0.05),
    targetModules: z.union([z.literal("all-linear"), z.array(z.string()).min(1)]).default("all-linear"),
    /** Power iterations of PiSSA's fast SVD (`init_lora_weights="pissa_niter_K"`). */
    pissaNiter: z.number().int().min(0).default(4),
  }).prefault({}),
  train: z.object({
    maxSteps: z.number().int().min(0).default(100),
    /** Used when maxSteps is 0. */
    epochs: z.number().positive().optional(),
    batchSize: z.number().int().min(1).default(8),
    gradAccum: z.number().int().min(1).default(1),
    lr: z.number().positive("learning rate must be > 0").default(2e-4),
    schedule: z.enum(["cosine", "linear", "constant", "constant_with_warmup"]).default("cosine"),
    warmupSteps: z.number().int().min(0).default(0),
    maxLength: z.number().int().min(8).default(256),
    gradientCheckpointing: z.boolean().default(false),
    seed: z.number().int().default(42),
    logEvery: z.number().int().min(1).default(1),
    /** Evaluate every N steps (0: only at the end). */
    evalEvery: z.number().int().min(0).default(0),
    /** Save a checkpoint every N steps (0: only when stopped). */
    saveEvery: z.number().int().min(0).default(0),
    dpoBeta: z.number().positive().default(0.1),
  }).prefault({}),
  eval: z.object({
    exactMatch: z.boolean().default(true),
    maxExamples: z.number().int().min(1).default(64),
  }).prefault({}),
  device: z.enum(["auto", "cpu", "cuda"]).default("auto"),
  dtype: z.enum(["auto", "float32", "bfloat16", "float16"]).default("auto"),
  launcher: z.object({
    kind: z.enum(["python", "torchrun"]).default("python"),
    nproc: z.number().int().min(1).default(1),
  }).prefault({}),
  /** Continue from the last checkpoint in `runDir`. */
  resume: z.boolean().default(false),
  /** The run folder (filled by `trainRun`). */
  runDir: z.string().optional(),
});

/** A run config as a lesson writes it (defaults optional). */
export type RunConfigInput = z.input<typeof RunConfigSchema>;
/** A run config with every default filled in. */
export type RunConfig = z.output<typeof RunConfigSchema>;

/**
 * Validates a run config and fills the defaults.
 *
 * @param input The config.
 * @returns The complete config.
 * @throws {Error} One line per problem, naming the field: e.g. `lora.r: rank must be at least 1`.
 *
 * @example
 * ```ts
 * import { parseRunConfig } from "./run_config.ts";
 * const c = parseRunConfig({ model: "data/models/ince-tiny", dataset: { train: "t.jsonl" }, method: "dora" });
 * console.log(c.lora.r, c.train.lr); // 16 0.0002
 * ```
 */
export function parseRunConfig(input: RunConfigInput): RunConfig {
  const parsed = RunConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${i.path.join(".") || "(config)"}: ${i.message}`);
  throw new Error(`Invalid run config — ${lines.join("; ")}.`);
}
