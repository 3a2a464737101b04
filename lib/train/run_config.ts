/**
 * The run config: one zod schema with every default in one place. The trainer process
 * (`python/trainer.py`) receives the parsed config with defaults filled in, and re-checks the
 * essentials for configs written by hand.
 *
 * A PEFT run is made of independent choices, each its own field and each mapped to PEFT in one
 * place in the trainer (`peft_config_for`):
 *
 * | field | values | PEFT |
 * | --- | --- | --- |
 * | `peftType` | lora, adalora, ia3, prompt_tuning, p_tuning, prefix_tuning | the config class |
 * | `adapter` | lora, dora | `use_dora` |
 * | `init` | default, gaussian, pissa, olora | `init_lora_weights` |
 * | `scaling` | standard (α/r), rslora (α/√r) | `use_rslora` |
 * | `quant` | none, nf4 (GPU) | `BitsAndBytesConfig(load_in_4bit, nf4, double quant)` |
 * | `optimizer` | adamw, loraplus (+ `loraplusLrRatio`) | `peft.optimizers.create_loraplus_optimizer` |
 * | `fullFineTune` | true: no adapter, every weight trains | — |
 *
 * The old single word `method` (lora, dora, pissa, olora, rslora, qlora, qdora) is a preset that
 * expands into these fields ({@linkcode METHOD_PRESETS}); fields given explicitly override the preset.
 * After parsing, `method` holds a label of the whole choice (the preset's name when the axes equal a
 * preset, else e.g. `dora+rslora`), so recorded runs and run ids stay readable.
 *
 * @module
 */
import { z } from "zod";

/** The preset names of the old `method` field. */
export const METHODS = ["lora", "dora", "pissa", "olora", "rslora", "qlora", "qdora"] as const;
/** A preset name. */
export type Method = (typeof METHODS)[number];

/** The PEFT families the trainer runs. */
export const PEFT_TYPES = ["lora", "adalora", "ia3", "prompt_tuning", "p_tuning", "prefix_tuning"] as const;

/** The axes a preset fixes. */
export interface MethodAxes {
  adapter: "lora" | "dora";
  init: "default" | "gaussian" | "pissa" | "olora";
  scaling: "standard" | "rslora";
  quant: "none" | "nf4";
}

const LORA_AXES: MethodAxes = { adapter: "lora", init: "default", scaling: "standard", quant: "none" };

/** What each old method name means in the independent fields. */
export const METHOD_PRESETS: Readonly<Record<Method, MethodAxes>> = {
  lora: LORA_AXES,
  dora: { ...LORA_AXES, adapter: "dora" },
  pissa: { ...LORA_AXES, init: "pissa" },
  olora: { ...LORA_AXES, init: "olora" },
  rslora: { ...LORA_AXES, scaling: "rslora" },
  qlora: { ...LORA_AXES, quant: "nf4" },
  qdora: { ...LORA_AXES, adapter: "dora", quant: "nf4" },
};

/**
 * A readable label for a choice of axes: the preset's name when it matches one, else the parts that
 * differ from plain LoRA joined by `+` (e.g. `dora+rslora`, `pissa+nf4`, `full`, `ia3`).
 *
 * @param c The parsed fields.
 * @returns The label.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { methodLabel } from "./run_config.ts";
 * assert.equal(methodLabel({ adapter: "dora", init: "default", scaling: "standard", quant: "nf4" }), "qdora");
 * assert.equal(methodLabel({ adapter: "dora", init: "default", scaling: "rslora", quant: "none" }), "dora+rslora");
 * assert.equal(methodLabel({ ...{ adapter: "lora", init: "default", scaling: "standard", quant: "none" }, peftType: "ia3" }), "ia3");
 * ```
 */
export function methodLabel(
  c: MethodAxes & { peftType?: string; fullFineTune?: boolean; optimizer?: { name: string } },
): string {
  if (c.fullFineTune) return "full";
  const extra = c.optimizer?.name === "loraplus" ? ["loraplus"] : [];
  if (c.peftType && c.peftType !== "lora") {
    return [c.peftType, ...(c.quant === "nf4" ? ["nf4"] : []), ...extra].join("+");
  }
  const preset = (Object.keys(METHOD_PRESETS) as Method[]).find((m) =>
    (Object.keys(LORA_AXES) as (keyof MethodAxes)[]).every((k) => METHOD_PRESETS[m][k] === c[k])
  );
  if (preset) return [preset, ...extra].join("+");
  const parts = [
    c.adapter === "dora" ? "dora" : c.init === "default" ? "lora" : null,
    c.init !== "default" ? c.init : null,
    c.scaling === "rslora" ? "rslora" : null,
    c.quant === "nf4" ? "nf4" : null,
  ].filter((p): p is string => p !== null);
  return [...parts, ...extra].join("+");
}

/** The run config schema (input: what a lesson writes; output: defaults filled). */
export const RunConfigSchema = z.object({
  /** A model folder, or a Hub id already in the cache (see `downloadModel`). */
  model: z.string().min(1, "name a model folder or Hub id"),
  dataset: z.object({
    train: z.string().min(1),
    eval: z.string().optional(),
  }),
  /**
   * A preset for the axes below (the old single word); explicit axes override it. A parsed config's
   * label (e.g. `dora+rslora`) is accepted back when all four axes are given with it.
   */
  method: z.string().optional(),
  /** The PEFT family; LoRA-only fields (adapter, init, scaling, LoRA+) apply to `lora` alone. */
  peftType: z.enum(PEFT_TYPES).default("lora"),
  adapter: z.enum(["lora", "dora"]).optional(),
  init: z.enum(["default", "gaussian", "pissa", "olora"]).optional(),
  scaling: z.enum(["standard", "rslora"]).optional(),
  /** Load the frozen base in 4-bit NF4 (bitsandbytes, double quantization): needs a CUDA/ROCm GPU. */
  quant: z.enum(["none", "nf4"]).optional(),
  optimizer: z.object({
    name: z.enum(["adamw", "loraplus"]).default("adamw"),
    /** LoRA+: learning rate of B = ratio × that of A (the paper suggests 16). */
    loraplusLrRatio: z.number().positive("the LoRA+ ratio must be > 0 (the paper uses 16)").default(16),
  }).prefault({}),
  /** No adapter: every weight of the model trains (the reference the papers compare against). */
  fullFineTune: z.boolean().default(false),
  /**
   * Which engine loads the model and applies the adapter: `peft` (transformers + PEFT) or `unsloth` (Unsloth's
   * `FastLanguageModel`, its fused kernels; needs Unsloth installed — `deno task setup --unsloth` — and a GPU).
   * Training itself is TRL's in both, so the events are the same.
   */
  backend: z.enum(["peft", "unsloth"]).default("peft"),
  stage: z.enum(["sft", "dpo"]).default("sft"),
  lora: z.object({
    r: z.number().int("rank must be a whole number").min(1, "rank must be at least 1").default(16),
    alpha: z.number().positive().default(32),
    dropout: z.number().min(0).max(1).default(0.05),
    targetModules: z.union([z.literal("all-linear"), z.array(z.string()).min(1)]).default("all-linear"),
    /** Power iterations of PiSSA's fast SVD (`init_lora_weights="pissa_niter_K"`). */
    pissaNiter: z.number().int().min(0).default(4),
  }).prefault({}),
  /** Prompt tuning, P-tuning and prefix tuning: how many virtual tokens are learned. */
  prompt: z.object({
    virtualTokens: z.number().int().min(1, "at least 1 virtual token").default(20),
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
    /** Recompute activations in the backward pass instead of keeping them: less memory, ~30 % more compute. */
    gradientCheckpointing: z.boolean().default(false),
    /**
     * Throughput settings, passed to TRL / transformers as they are. Off by default: each changes the numerics or
     * needs a GPU (see lesson 01).
     * - `liger`: the Liger Triton kernels (`use_liger_kernel`): fused RMSNorm, RoPE, SwiGLU and the fused linear
     *   cross-entropy that never builds the full logits tensor (large vocabularies). CUDA/ROCm GPU only.
     * - `paddingFree`: a batch is its rows laid end to end with restarting `position_ids`, no padding
     *   (`padding_free`); the attention keeps every row to itself (transformers builds a block-diagonal mask from
     *   the positions, flash-attention uses the sequence boundaries). SFT only: TRL 1.16's DPO trainer has it
     *   switched off (it would fall back to padding).
     * - `packing`: SFT rows packed into `maxLength`-token sequences by best-fit decreasing (`packing`, strategy
     *   "bfd"): padding-free within each pack, so rows never attend to each other; changes how many rows a step sees.
     * - `compile`: `torch.compile` the model (`torch_compile`): slow first steps, faster later ones.
     * - `autoBatchSize`: start at `batchSize` and halve it after an out-of-memory error until a step fits
     *   (`auto_find_batch_size`); the batch used is the `end` event's `batchSize`.
     */
    liger: z.boolean().default(false),
    paddingFree: z.boolean().default(false),
    packing: z.boolean().default(false),
    compile: z.boolean().default(false),
    autoBatchSize: z.boolean().default(false),
    seed: z.number().int().default(42),
    logEvery: z.number().int().min(1).default(1),
    /** Evaluate every N steps (0: only at the end). */
    evalEvery: z.number().int().min(0).default(0),
    /** Also save a checkpoint every N steps (0: by time only, see `saveMinutes`). */
    saveEvery: z.number().int().min(0).default(0),
    /**
     * Save a checkpoint whenever this many minutes of training have passed since the last one (0: off), so
     * a hard kill (OOM killer, closed laptop, killed terminal) loses at most this much; the newest
     * `keepCheckpoints` are kept. 5 minutes costs well under 1 % of the time for a LoRA checkpoint (an adapter and
     * its optimizer state: tens of MB, about a second) and never triggers in a lesson's few-minute CPU run.
     */
    saveMinutes: z.number().min(0).default(5),
    /**
     * How many checkpoints (`runDir/checkpoints/checkpoint-N`) to keep: older ones are deleted as new ones
     * are saved (transformers' `save_total_limit`). Raise it to study the weights over training (e.g. the
     * DoRA paper's magnitude/direction plot at several steps); each LoRA checkpoint is an adapter and its
     * optimizer state, a full fine-tune's is the whole model and its optimizer state (about 3× the model).
     */
    keepCheckpoints: z.number().int("keepCheckpoints must be a whole number").min(
      1,
      "keep at least 1 checkpoint (resume and the interrupt save need one)",
    ).default(2),
    dpoBeta: z.number().positive().default(0.1),
    /**
     * On a CPU, measure the allocator peak during one steady-state step with PyTorch's MemTracker (that
     * step runs about 2× slower and is left out of `seconds_per_step`). On a GPU the allocator's own
     * counter is free and always read.
     */
    probeMemory: z.boolean().default(true),
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
}).superRefine((c, ctx) => {
  const say = (path: string, message: string) => ctx.addIssue({ code: "custom", path: [path], message });
  if (c.method !== undefined && !(METHODS as readonly string[]).includes(c.method)) {
    const explicit = c.adapter && c.init && c.scaling && c.quant;
    if (!explicit) {
      say(
        "method",
        `"${c.method}" is not one of ${METHODS.join(", ")} (or set adapter, init, scaling, quant)`,
      );
    }
  }
  const axes = _axes(c);
  if (c.fullFineTune) {
    if (c.peftType !== "lora") {
      say("fullFineTune", `a full fine-tune has no adapter: drop peftType "${c.peftType}"`);
    }
    if (axes.adapter === "dora") {
      say("adapter", "DoRA is an adapter; a full fine-tune trains the weights themselves");
    }
    if (axes.init !== "default") {
      say(
        "init",
        `init "${axes.init}" initialises an adapter; a full fine-tune has none: drop init or fullFineTune`,
      );
    }
    if (axes.scaling === "rslora") say("scaling", "rsLoRA scales an adapter; a full fine-tune has none");
    if (axes.quant === "nf4") {
      say("quant", "a 4-bit base cannot be trained directly: use an adapter (QLoRA) instead of fullFineTune");
    }
    if (c.optimizer.name === "loraplus") {
      say("optimizer.name", "LoRA+ needs LoRA's A and B matrices: use adamw");
    }
  } else if (c.peftType !== "lora") {
    const why = `applies to LoRA only; with peftType "${c.peftType}" leave it out`;
    if (axes.adapter === "dora") say("adapter", `DoRA ${why}`);
    if (axes.init !== "default") say("init", `init "${axes.init}" ${why}`);
    if (axes.scaling === "rslora") say("scaling", `rsLoRA ${why}`);
    if (c.optimizer.name === "loraplus") say("optimizer.name", `LoRA+ ${why}`);
    if (c.method && c.method !== "lora" && c.method !== "qlora") {
      say("method", `the preset "${c.method}" ${why}`);
    }
  }
  if (axes.quant === "nf4" && c.device === "cpu") {
    say(
      "quant",
      'NF4 (bitsandbytes) needs a CUDA or ROCm GPU; on a CPU use quant: "none" (the built-in model is small)',
    );
  }
  if (c.train.packing && c.stage !== "sft") {
    say("train.packing", "packing joins SFT rows into fixed-length sequences; DPO batches are padded");
  }
  if (c.train.paddingFree && c.stage !== "sft") {
    say(
      "train.paddingFree",
      "TRL's DPO trainer has padding-free batching switched off (it falls back to padding); leave it off for DPO",
    );
  }
  if (c.train.liger && c.device === "cpu") {
    say("train.liger", "Liger's kernels are Triton GPU kernels; on a CPU leave train.liger off");
  }
  if (c.backend === "unsloth" && c.device === "cpu") {
    say(
      "backend",
      'Unsloth runs on a CUDA or ROCm GPU only; on a CPU use backend "peft" (the same run and events)',
    );
  }
  if (c.peftType === "prefix_tuning" && c.train.gradientCheckpointing) {
    say(
      "train.gradientCheckpointing",
      "prefix tuning feeds past key/values, which checkpointing cannot recompute: turn it off",
    );
  }
}).transform((c) => {
  const axes = _axes(c);
  return { ...c, ...axes, method: methodLabel({ ...c, ...axes }) };
});

function _axes(c: {
  method?: string;
  adapter?: MethodAxes["adapter"];
  init?: MethodAxes["init"];
  scaling?: MethodAxes["scaling"];
  quant?: MethodAxes["quant"];
}): MethodAxes {
  const preset = METHOD_PRESETS[c.method as Method] ?? LORA_AXES;
  return {
    adapter: c.adapter ?? preset.adapter,
    init: c.init ?? preset.init,
    scaling: c.scaling ?? preset.scaling,
    quant: c.quant ?? preset.quant,
  };
}

/** A run config as a lesson writes it (defaults optional). */
export type RunConfigInput = z.input<typeof RunConfigSchema>;
/** A run config with every default filled in; `method` is the label of the chosen axes. */
export type RunConfig = Omit<z.output<typeof RunConfigSchema>, "method"> & { method: string };

/**
 * Validates a run config and fills the defaults.
 *
 * @param input The config.
 * @returns The complete config.
 * @throws {Error} One line per problem, naming the field: e.g. `lora.r: rank must be at least 1`.
 *
 * @example Presets expand into the independent fields
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseRunConfig } from "./run_config.ts";
 * const c = parseRunConfig({ model: "data/models/ince-tiny", dataset: { train: "t.jsonl" }, method: "qdora" });
 * assert.deepEqual([c.adapter, c.init, c.scaling, c.quant, c.method], ["dora", "default", "standard", "nf4", "qdora"]);
 * assert.equal(c.lora.r, 16);
 * const d = parseRunConfig({ model: "m", dataset: { train: "t.jsonl" }, adapter: "dora", scaling: "rslora" });
 * assert.equal(d.method, "dora+rslora");
 * assert.throws(() => parseRunConfig({ model: "m", dataset: { train: "t" }, fullFineTune: true, init: "pissa" }), /init/);
 * ```
 */
export function parseRunConfig(input: RunConfigInput): RunConfig {
  const parsed = RunConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => `${i.path.join(".") || "(config)"}: ${i.message}`);
  throw new Error(`Invalid run config — ${lines.join("; ")}.`);
}
