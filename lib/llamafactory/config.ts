/**
 * LLaMA-Factory's training config, typed: a zod schema of the keys the lessons use (LLaMA-Factory's own names,
 * snake_case, exactly as its YAML files spell them), written to YAML by a YAML library, and mapped to and from
 * ince's run config through ONE table ({@linkcode RUN_CONFIG_MAPPING}).
 *
 * The schema catches what TypeScript can (unknown keys, types, ranges, rules between keys); LLaMA-Factory's
 * own parser has the last word in a dry run (`validateLlamaFactoryConfig`, validate.ts).
 *
 * @module
 */
import { z } from "zod";
import { stringify } from "yaml";
import { parseRunConfig, type RunConfig, type RunConfigInput } from "../train/run_config.ts";
import { modelArg } from "../util/model_source.ts";
import { absPath } from "../util/fs.ts";

const positiveInt = (what: string) =>
  z.number().int(`${what} must be a whole number`).min(1, `${what} must be ≥ 1`);

/**
 * The keys of a LLaMA-Factory (0.9.x) training YAML that ince's lessons use, with LLaMA-Factory's defaults where
 * the lessons rely on them. Unknown keys are refused (the schema is strict, like LLaMA-Factory's parser).
 */
export const LlamaFactoryConfigSchema = z.strictObject({
  // The model.
  model_name_or_path: z.string().min(1, "name a model folder or Hub id"),
  /** An adapter to load and keep training (e.g. SFT's output before DPO). */
  adapter_name_or_path: z.string().min(1).optional(),
  trust_remote_code: z.boolean().optional(),
  /** 4 or 8: load the base quantized with bitsandbytes (QLoRA; needs a CUDA/ROCm GPU). */
  quantization_bit: z.union([z.literal(4), z.literal(8)]).optional(),
  // The method.
  stage: z.enum(["sft", "dpo"]).default("sft"),
  do_train: z.boolean().default(true),
  finetuning_type: z.enum(["lora", "full"]).default("lora"),
  lora_rank: positiveInt("lora_rank").optional(),
  lora_alpha: z.number().positive().optional(),
  lora_dropout: z.number().min(0).max(1).optional(),
  /** `all` (every linear layer but the head) or a comma-separated list of module names. */
  lora_target: z.string().min(1).optional(),
  use_dora: z.boolean().optional(),
  use_rslora: z.boolean().optional(),
  pissa_init: z.boolean().optional(),
  /** Power iterations of PiSSA's fast SVD (-1: exact SVD). */
  pissa_iter: z.number().int().min(-1).optional(),
  /** LoRA+: learning rate of B = ratio × that of A. */
  loraplus_lr_ratio: z.number().positive().optional(),
  pref_beta: z.number().positive().optional(),
  pref_loss: z.enum(["sigmoid", "hinge", "ipo", "kto_pair", "orpo", "simpo"]).optional(),
  // The data.
  /** Dataset names registered in `dataset_dir/dataset_info.json`, comma-separated. */
  dataset: z.string().min(1, "name a dataset registered in dataset_info.json"),
  eval_dataset: z.string().min(1).optional(),
  dataset_dir: z.string().min(1).optional(),
  /** The chat template (for ince-tiny: `chatml`, which reproduces its tokenizer's template token for token). */
  template: z.string().min(1, "name a template (ince-tiny: chatml)"),
  cutoff_len: positiveInt("cutoff_len").optional(),
  max_samples: positiveInt("max_samples").optional(),
  preprocessing_num_workers: positiveInt("preprocessing_num_workers").optional(),
  // Training.
  output_dir: z.string().min(1, "name an output folder"),
  overwrite_output_dir: z.boolean().optional(),
  per_device_train_batch_size: positiveInt("per_device_train_batch_size").optional(),
  per_device_eval_batch_size: positiveInt("per_device_eval_batch_size").optional(),
  gradient_accumulation_steps: positiveInt("gradient_accumulation_steps").optional(),
  learning_rate: z.number().positive("learning_rate must be > 0"),
  /** Steps to train; when absent (or -1), `num_train_epochs` decides. */
  max_steps: z.number().int().min(-1).optional(),
  num_train_epochs: z.number().positive().optional(),
  lr_scheduler_type: z.enum(["linear", "cosine", "constant", "constant_with_warmup"]).optional(),
  warmup_steps: z.number().int().min(0).optional(),
  logging_steps: positiveInt("logging_steps").optional(),
  save_steps: positiveInt("save_steps").optional(),
  save_total_limit: positiveInt("save_total_limit").optional(),
  do_eval: z.boolean().optional(),
  eval_strategy: z.enum(["no", "steps", "epoch"]).optional(),
  eval_steps: positiveInt("eval_steps").optional(),
  seed: z.number().int().optional(),
  report_to: z.literal("none").optional(),
  use_cpu: z.boolean().optional(),
  bf16: z.boolean().optional(),
  fp16: z.boolean().optional(),
  /** LLaMA-Factory turns gradient checkpointing ON unless this is true (ince's trainer: off unless asked). */
  disable_gradient_checkpointing: z.boolean().optional(),
  include_num_input_tokens_seen: z.boolean().optional(),
  plot_loss: z.boolean().optional(),
}).superRefine((c, ctx) => {
  const say = (key: string, message: string) => ctx.addIssue({ code: "custom", path: [key], message });
  const lora = c.finetuning_type === "lora";
  for (const key of ["use_dora", "use_rslora", "pissa_init", "loraplus_lr_ratio", "lora_rank"] as const) {
    if (!lora && c[key] !== undefined && c[key] !== false) {
      say(key, `${key} is only valid for LoRA training (finetuning_type: lora)`);
    }
  }
  if (c.quantization_bit !== undefined && !lora) {
    say("quantization_bit", "a quantized base trains only with LoRA");
  }
  if (c.pissa_init && c.quantization_bit !== undefined) {
    say("pissa_init", "PiSSA's SVD needs the base in full precision: drop quantization_bit (or pissa_init)");
  }
  if (c.bf16 && c.fp16) say("fp16", "choose one of bf16 and fp16");
  if ((c.max_steps === undefined || c.max_steps === -1) && c.num_train_epochs === undefined) {
    say("max_steps", "set max_steps (or num_train_epochs)");
  }
  if (c.eval_strategy === "steps" && !c.eval_dataset) {
    say("eval_strategy", "evaluating needs eval_dataset (a registered dataset name)");
  }
  if (c.stage === "dpo" && c.finetuning_type === "full" && c.adapter_name_or_path) {
    say("adapter_name_or_path", "a full fine-tune does not load an adapter");
  }
});

/** A LLaMA-Factory config as a lesson writes it (defaults optional). */
export type LlamaFactoryConfigInput = z.input<typeof LlamaFactoryConfigSchema>;
/** A parsed LLaMA-Factory config. */
export type LlamaFactoryConfig = z.output<typeof LlamaFactoryConfigSchema>;

/** The schema's keys, for suggestions. */
export const LLAMAFACTORY_KEYS: readonly string[] = Object.keys(LlamaFactoryConfigSchema.shape);

/**
 * The known key closest to `key`: the same words in another order, a small misspelling (edit distance ≤ 2), or
 * every word of `key` starting a word of the known key (lora_r → lora_rank, num_epochs → num_train_epochs).
 */
function _closest(key: string, known: readonly string[]): string | undefined {
  const distance = (a: string, b: string) => {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const next = [i];
      for (let j = 1; j <= b.length; j++) {
        next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      }
      row = next;
    }
    return row[b.length];
  };
  const words = (s: string) => s.toLowerCase().split("_").filter(Boolean);
  const mine = words(key);
  const same = known.find((k) => words(k).sort().join("_") === [...mine].sort().join("_"));
  if (same) return same;
  const near = known.map((k) => ({ k, d: distance(key.toLowerCase(), k) })).sort((a, b) => a.d - b.d)[0];
  if (near && near.d <= 2) return near.k;
  const covering = known
    .map((k) => ({ k, w: words(k) }))
    .filter(({ w }) => mine.every((m) => w.some((x) => x.startsWith(m))))
    .sort((a, b) => a.w.length - b.w.length);
  return covering[0]?.k;
}

/**
 * Checks a LLaMA-Factory config against the schema and fills the defaults.
 *
 * @param input The config (LLaMA-Factory key names).
 * @param where Where it came from, for the error (a file name or "config").
 * @returns The parsed config.
 * @throws {Error} One line per problem, naming the key, with a suggestion for a misspelt key.
 *
 * @example A course-style key is named, with what to write instead
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseLlamaFactoryConfig } from "./config.ts";
 * const ok = { model_name_or_path: "m", dataset: "numbers", template: "chatml", output_dir: "out", learning_rate: 1e-3, max_steps: 5 };
 * assert.equal(parseLlamaFactoryConfig(ok).stage, "sft");
 * assert.throws(
 *   () => parseLlamaFactoryConfig({ ...ok, lora_r: 8, num_epochs: 3 }, "course.yaml"),
 *   /course\.yaml: lora_r: not a LLaMA-Factory key this schema knows — did you mean lora_rank\?; num_epochs: .*did you mean num_train_epochs\?/,
 * );
 * ```
 */
export function parseLlamaFactoryConfig(input: unknown, where = "LLaMA-Factory config"): LlamaFactoryConfig {
  const parsed = LlamaFactoryConfigSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => {
        const near = _closest(key, LLAMAFACTORY_KEYS);
        return `${key}: not a LLaMA-Factory key this schema knows${near ? ` — did you mean ${near}?` : ""}`;
      });
    }
    return [`${issue.path.join(".") || "(config)"}: ${issue.message}`];
  });
  throw new Error(`${where}: ${lines.join("; ")}.`);
}

/**
 * The config as LLaMA-Factory's YAML (keys in the schema's order, defaults filled), with a header comment.
 *
 * @param input The config.
 * @param header A comment for the first lines (e.g. what made it).
 * @returns YAML text, as `llamafactory-cli train` reads it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parse } from "yaml";
 * import { toLlamaFactoryYaml } from "./config.ts";
 * const yaml = toLlamaFactoryYaml({ model_name_or_path: "m", dataset: "numbers", template: "chatml", output_dir: "out", learning_rate: 2e-4, max_steps: 5 });
 * assert.match(yaml, /^stage: sft$/m);
 * assert.equal(parse(yaml).learning_rate, 0.0002);
 * ```
 */
export function toLlamaFactoryYaml(input: LlamaFactoryConfigInput, header?: string): string {
  const config = parseLlamaFactoryConfig(input);
  const ordered = Object.fromEntries(
    LLAMAFACTORY_KEYS.filter((k) => (config as Record<string, unknown>)[k] !== undefined)
      .map((k) => [k, (config as Record<string, unknown>)[k]]),
  );
  const comment = header ? header.split("\n").map((l) => `# ${l}`).join("\n") + "\n" : "";
  return comment + stringify(ordered);
}

/** Where the mapped config puts things (paths are made absolute: LLaMA-Factory runs in another folder). */
export interface RunConfigToLlamaFactoryOptions {
  /** LLaMA-Factory's `output_dir`. */
  outputDir: string;
  /** The folder holding `dataset_info.json` (see `writeDatasetInfo`). */
  datasetDir: string;
  /** The chat template (default `chatml`, ince-tiny's). */
  template?: string;
}

/** A dataset file's registered name: its file name without `.jsonl`/`.json`, other characters → `_`. */
export function datasetName(file: string): string {
  return file.split("/").pop()!.replace(/\.jsonl?$/, "").replace(/[^A-Za-z0-9_]/g, "_");
}

/**
 * The datasets a run config names, as `{ name: absolute file }` for `dataset_info.json`.
 *
 * @param input An ince run config.
 * @returns The train (and eval) dataset files by their registered names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runConfigDatasets } from "./config.ts";
 * const d = runConfigDatasets({ model: "m", dataset: { train: "/d/numbers-train.jsonl", eval: "/d/numbers-eval.jsonl" } });
 * assert.deepEqual(d, { numbers_train: "/d/numbers-train.jsonl", numbers_eval: "/d/numbers-eval.jsonl" });
 * ```
 */
export function runConfigDatasets(input: RunConfigInput): Record<string, string> {
  const files = [input.dataset.train, ...(input.dataset.eval ? [input.dataset.eval] : [])].map(absPath);
  return Object.fromEntries(files.map((f) => [datasetName(f), f]));
}

/** One row of the mapping between ince's run config and LLaMA-Factory's keys. */
export interface MappingRow {
  /** The ince field (dotted path), or a description when it is a combination. */
  ince: string;
  /** The LLaMA-Factory key(s). */
  llamafactory: string;
  /** ince → LLaMA-Factory: the keys to set (nothing when the ince value is the default that needs no key). */
  to(c: RunConfig): Partial<LlamaFactoryConfigInput>;
  /** LLaMA-Factory → ince: the fields to set. */
  from(c: LlamaFactoryConfig): Partial<RunConfigInput> & Record<string, unknown>;
  /** What differs, when it is not a plain rename. */
  note?: string;
}

const train = (t: Record<string, unknown>) => ({ train: t }) as Partial<RunConfigInput>;

/**
 * The one table between ince's run config and LLaMA-Factory's keys. Each row converts both ways; fields with no
 * LLaMA-Factory equivalent are listed in {@linkcode UNMAPPED_RUN_CONFIG_FIELDS}.
 */
export const RUN_CONFIG_MAPPING: readonly MappingRow[] = [
  {
    ince: "model",
    llamafactory: "model_name_or_path",
    to: (c) => ({ model_name_or_path: modelArg(c.model) }),
    from: (c) => ({ model: c.model_name_or_path }),
  },
  {
    ince: "stage",
    llamafactory: "stage",
    to: (c) => ({ stage: c.stage }),
    from: (c) => ({ stage: c.stage }),
  },
  {
    ince: "fullFineTune",
    llamafactory: "finetuning_type",
    to: (c) => ({ finetuning_type: c.fullFineTune ? "full" : "lora" }),
    from: (c) => ({ fullFineTune: c.finetuning_type === "full" }),
  },
  {
    ince: "lora.r / lora.alpha / lora.dropout",
    llamafactory: "lora_rank / lora_alpha / lora_dropout",
    to: (c) =>
      c.fullFineTune ? {} : { lora_rank: c.lora.r, lora_alpha: c.lora.alpha, lora_dropout: c.lora.dropout },
    from: (c) => ({
      lora: {
        ...(c.lora_rank !== undefined ? { r: c.lora_rank } : { r: 8 }),
        // LLaMA-Factory's default alpha is 2 × rank.
        alpha: c.lora_alpha ?? 2 * (c.lora_rank ?? 8),
        dropout: c.lora_dropout ?? 0,
      },
    }),
    note: "LLaMA-Factory's defaults: rank 8, alpha 2 × rank, dropout 0 (ince: 16, 32, 0.05)",
  },
  {
    ince: "lora.targetModules",
    llamafactory: "lora_target",
    to: (c) =>
      c.fullFineTune
        ? {}
        : { lora_target: c.lora.targetModules === "all-linear" ? "all" : c.lora.targetModules.join(",") },
    from: (c) => ({
      lora: {
        targetModules: !c.lora_target || c.lora_target === "all" ? "all-linear" : c.lora_target.split(","),
      },
    }),
    note: '"all-linear" is LLaMA-Factory\'s "all"; a list is comma-separated',
  },
  {
    ince: "adapter: dora",
    llamafactory: "use_dora",
    to: (c) => (c.adapter === "dora" ? { use_dora: true } : {}),
    from: (c) => (c.use_dora ? { adapter: "dora" } : {}),
  },
  {
    ince: "init: pissa (+ lora.pissaNiter)",
    llamafactory: "pissa_init (+ pissa_iter)",
    to: (c) => (c.init === "pissa" ? { pissa_init: true, pissa_iter: c.lora.pissaNiter } : {}),
    from: (c) => (c.pissa_init ? { init: "pissa", lora: { pissaNiter: c.pissa_iter ?? 16 } } : {}),
    note: "LLaMA-Factory's default is 16 power iterations (ince: 4)",
  },
  {
    ince: "scaling: rslora",
    llamafactory: "use_rslora",
    to: (c) => (c.scaling === "rslora" ? { use_rslora: true } : {}),
    from: (c) => (c.use_rslora ? { scaling: "rslora" } : {}),
  },
  {
    ince: "quant: nf4",
    llamafactory: "quantization_bit: 4",
    to: (c) => (c.quant === "nf4" ? { quantization_bit: 4 } : {}),
    from: (c) => (c.quantization_bit === 4 ? { quant: "nf4" } : {}),
    note: "both use bitsandbytes NF4 with double quantization (a GPU is needed)",
  },
  {
    ince: "optimizer: loraplus (+ loraplusLrRatio)",
    llamafactory: "loraplus_lr_ratio",
    to: (c) => (c.optimizer.name === "loraplus" ? { loraplus_lr_ratio: c.optimizer.loraplusLrRatio } : {}),
    from: (
      c,
    ) => (c.loraplus_lr_ratio
      ? { optimizer: { name: "loraplus", loraplusLrRatio: c.loraplus_lr_ratio } }
      : {}),
  },
  {
    ince: "train.maxSteps (train.epochs when 0)",
    llamafactory: "max_steps / num_train_epochs",
    to: (c) =>
      c.train.maxSteps > 0 ? { max_steps: c.train.maxSteps } : { num_train_epochs: c.train.epochs ?? 1 },
    from: (c) =>
      c.max_steps !== undefined && c.max_steps > 0
        ? train({ maxSteps: c.max_steps })
        : train({ maxSteps: 0, epochs: c.num_train_epochs ?? 3 }),
  },
  {
    ince: "train.batchSize / train.gradAccum",
    llamafactory: "per_device_train_batch_size / gradient_accumulation_steps",
    to: (c) => ({
      per_device_train_batch_size: c.train.batchSize,
      gradient_accumulation_steps: c.train.gradAccum,
    }),
    from: (c) =>
      train({ batchSize: c.per_device_train_batch_size ?? 8, gradAccum: c.gradient_accumulation_steps ?? 1 }),
  },
  {
    ince: "train.lr / train.schedule / train.warmupSteps",
    llamafactory: "learning_rate / lr_scheduler_type / warmup_steps",
    to: (c) => ({
      learning_rate: c.train.lr,
      lr_scheduler_type: c.train.schedule,
      warmup_steps: c.train.warmupSteps,
    }),
    from: (c) =>
      train({
        lr: c.learning_rate,
        schedule: c.lr_scheduler_type ?? "linear",
        warmupSteps: c.warmup_steps ?? 0,
      }),
    note: "LLaMA-Factory's default schedule is linear (ince: cosine)",
  },
  {
    ince: "train.maxLength",
    llamafactory: "cutoff_len",
    to: (c) => ({ cutoff_len: c.train.maxLength }),
    from: (c) => train({ maxLength: c.cutoff_len ?? 2048 }),
    note: "both cut prompt + answer to this many tokens (LLaMA-Factory shares it between them)",
  },
  {
    ince: "train.gradientCheckpointing",
    llamafactory: "disable_gradient_checkpointing",
    to: (c) => ({ disable_gradient_checkpointing: !c.train.gradientCheckpointing }),
    from: (c) => train({ gradientCheckpointing: !c.disable_gradient_checkpointing }),
    note: "LLaMA-Factory checkpoints by default; ince does not",
  },
  {
    ince: "train.seed",
    llamafactory: "seed",
    to: (c) => ({ seed: c.train.seed }),
    from: (c) => train({ seed: c.seed ?? 42 }),
  },
  {
    ince: "train.logEvery",
    llamafactory: "logging_steps",
    to: (c) => ({ logging_steps: c.train.logEvery }),
    from: (c) => train({ logEvery: c.logging_steps ?? 1 }),
  },
  {
    ince: "train.evalEvery (+ dataset.eval)",
    llamafactory: "eval_dataset, eval_strategy, eval_steps",
    to: (c) => {
      if (!c.dataset.eval) return {};
      const steps = c.train.evalEvery || c.train.maxSteps || undefined;
      return {
        eval_dataset: datasetName(c.dataset.eval),
        do_eval: true,
        eval_strategy: "steps",
        ...(steps ? { eval_steps: steps } : {}),
      };
    },
    from: (c) => train({ evalEvery: c.eval_strategy === "steps" && c.eval_steps ? c.eval_steps : 0 }),
    note: "ince evaluates at the end when evalEvery is 0; LLaMA-Factory needs a step count",
  },
  {
    ince: "train.saveEvery / train.keepCheckpoints",
    llamafactory: "save_steps / save_total_limit",
    to: (c) => ({
      ...(c.train.saveEvery ? { save_steps: c.train.saveEvery } : {}),
      save_total_limit: c.train.keepCheckpoints,
    }),
    from: (c) => train({ saveEvery: c.save_steps ?? 0, keepCheckpoints: c.save_total_limit ?? 2 }),
  },
  {
    ince: "train.dpoBeta",
    llamafactory: "pref_beta (pref_loss: sigmoid)",
    to: (c) => (c.stage === "dpo" ? { pref_beta: c.train.dpoBeta, pref_loss: "sigmoid" } : {}),
    from: (c) => (c.pref_beta !== undefined ? train({ dpoBeta: c.pref_beta }) : {}),
  },
  {
    ince: "device: cpu",
    llamafactory: "use_cpu",
    to: (c) => (c.device === "cpu" ? { use_cpu: true } : {}),
    from: (c) => ({ device: c.use_cpu ? "cpu" : "auto" }),
  },
  {
    ince: "dtype: bfloat16 / float16",
    llamafactory: "bf16 / fp16",
    to: (c) => (c.dtype === "bfloat16" ? { bf16: true } : c.dtype === "float16" ? { fp16: true } : {}),
    from: (c) => ({ dtype: c.bf16 ? "bfloat16" : c.fp16 ? "float16" : "float32" }),
    note: "without bf16/fp16 LLaMA-Factory trains in float32",
  },
];

/** Run-config fields with no LLaMA-Factory key (they keep their ince defaults in a mapped-back config). */
export const UNMAPPED_RUN_CONFIG_FIELDS: Readonly<Record<string, string>> = {
  "eval.exactMatch":
    "LLaMA-Factory reports loss only while training (predict_with_generate is a separate run)",
  "train.saveMinutes": "LLaMA-Factory saves by step count only",
  "train.probeMemory": "ince's trainer measures memory itself",
  "launcher": "LLaMA-Factory starts torchrun itself when it sees several GPUs",
  "init: gaussian / olora": "LLaMA-Factory has no key for them",
  "peftType other than lora": "LLaMA-Factory trains LoRA, OFT, freeze or full",
};

/**
 * Maps an ince run config to LLaMA-Factory's keys through {@linkcode RUN_CONFIG_MAPPING}.
 *
 * @param input The ince run config.
 * @param options Output folder, dataset folder, template.
 * @returns The LLaMA-Factory config (parsed: it passes the schema).
 * @throws {Error} When the run config uses something LLaMA-Factory has no key for (OLoRA, IA³, …), saying so.
 *
 * @example DoRA with rsLoRA scaling becomes two of LLaMA-Factory's switches
 * ```ts
 * import assert from "node:assert/strict";
 * import { runConfigToLlamaFactory } from "./config.ts";
 * const lf = runConfigToLlamaFactory(
 *   { model: "/m", dataset: { train: "/d/numbers-train.jsonl" }, method: "dora", scaling: "rslora", lora: { r: 8 }, train: { maxSteps: 20 } },
 *   { outputDir: "/out", datasetDir: "/d" },
 * );
 * assert.deepEqual([lf.use_dora, lf.use_rslora, lf.lora_rank, lf.dataset, lf.template, lf.max_steps], [true, true, 8, "numbers_train", "chatml", 20]);
 * ```
 */
export function runConfigToLlamaFactory(
  input: RunConfigInput,
  options: RunConfigToLlamaFactoryOptions,
): LlamaFactoryConfig {
  const c = parseRunConfig(input);
  if (c.peftType !== "lora") {
    throw new Error(
      `peftType "${c.peftType}": LLaMA-Factory trains LoRA (and OFT, freeze, full) — use ince's trainer for it.`,
    );
  }
  if (c.init === "gaussian" || c.init === "olora") {
    throw new Error(`init "${c.init}": LLaMA-Factory has no key for it — use init "default" or "pissa".`);
  }
  const keys: Record<string, unknown> = {
    dataset: datasetName(c.dataset.train),
    dataset_dir: absPath(options.datasetDir),
    template: options.template ?? "chatml",
    output_dir: absPath(options.outputDir),
    do_train: true,
    report_to: "none",
  };
  for (const row of RUN_CONFIG_MAPPING) Object.assign(keys, row.to(c));
  return parseLlamaFactoryConfig(keys, "runConfigToLlamaFactory");
}

function _merge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const old = out[k];
    out[k] =
      old && typeof old === "object" && !Array.isArray(old) && v && typeof v === "object" && !Array.isArray(v)
        ? _merge(old as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

/**
 * Maps a LLaMA-Factory config back to an ince run config (for the run folder's `config.json`, so the run store,
 * tables and charts read a LLaMA-Factory run like any other), through {@linkcode RUN_CONFIG_MAPPING}.
 *
 * @param input The LLaMA-Factory config.
 * @param datasets The registered datasets, `{ name: file }` (from `dataset_info.json`).
 * @returns The ince run config (parsed, defaults filled).
 * @throws {Error} When `dataset` names a dataset not in `datasets`.
 *
 * @example Round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { runConfigToLlamaFactory, llamaFactoryToRunConfig } from "./config.ts";
 * const rc = { model: "/m", dataset: { train: "/d/numbers-train.jsonl" }, method: "pissa", train: { maxSteps: 20, lr: 1e-3 } };
 * const back = llamaFactoryToRunConfig(runConfigToLlamaFactory(rc, { outputDir: "/o", datasetDir: "/d" }), { numbers_train: "/d/numbers-train.jsonl" });
 * assert.deepEqual([back.method, back.train.maxSteps, back.train.lr, back.lora.r, back.dataset.train], ["pissa", 20, 1e-3, 16, "/d/numbers-train.jsonl"]);
 * ```
 */
export function llamaFactoryToRunConfig(
  input: LlamaFactoryConfigInput,
  datasets: Record<string, string>,
): RunConfig {
  const c = parseLlamaFactoryConfig(input);
  const file = (name: string, key: string) => {
    const first = name.split(",")[0].trim();
    if (!datasets[first]) {
      throw new Error(
        `${key}: "${first}" is not among the registered datasets (${Object.keys(datasets).join(", ")}).`,
      );
    }
    return datasets[first];
  };
  let out: Record<string, unknown> = {
    dataset: {
      train: file(c.dataset, "dataset"),
      ...(c.eval_dataset ? { eval: file(c.eval_dataset, "eval_dataset") } : {}),
    },
  };
  for (const row of RUN_CONFIG_MAPPING) out = _merge(out, row.from(c));
  return parseRunConfig(out as RunConfigInput);
}
