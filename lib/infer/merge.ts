/**
 * Merging an adapter into its base model: `W ← W + (α/r)·B·A` (DoRA: then rescaled to the learned
 * magnitude), done by PEFT's own `merge_and_unload()` in a separate Python process. The merged
 * folder is a plain model: transformers loads it without PEFT, and it answers exactly as base +
 * adapter did, with no extra work per token.
 *
 * @module
 */
import { z } from "zod";
import { basename, dirname } from "node:path";
import type { Message } from "../data/load_dataset.ts";
import { exists } from "../util/fs.ts";
import { absPath, modelArg, runPythonJob } from "./_python_job.ts";

/** A file and its size. */
export interface FileSize {
  /** File name inside the folder. */
  name: string;
  /** Size in bytes. */
  bytes: number;
}

/** The fields of PEFT's `adapter_config.json` a lesson looks at (the rest are kept as they are). */
export interface AdapterConfig {
  /** `"LORA"` for LoRA, DoRA, PiSSA, OLoRA and rsLoRA adapters. */
  peft_type: string;
  /** Rank (a PiSSA/OLoRA adapter saved converted has twice the rank it was trained with). */
  r: number;
  /** α: the update is scaled by α/r (α/√r with rsLoRA). */
  lora_alpha: number;
  /** The adapted modules, e.g. `["q_proj", "v_proj"]`, or a regex string. */
  target_modules: string[] | string | null;
  /** DoRA: a learned magnitude per output feature. */
  use_dora: boolean;
  /** rsLoRA scaling α/√r. */
  use_rslora: boolean;
  /** How A and B started: `true` (B = 0), `"gaussian"`, `"pissa_niter_4"`, `"olora"`… */
  init_lora_weights: boolean | string;
  /** The model the adapter was trained on. */
  base_model_name_or_path: string | null;
  [field: string]: unknown;
}

/** What an adapter folder holds, from {@linkcode adapterFolder}. */
export interface AdapterFolder {
  /** The folder, as given. */
  dir: string;
  /** Its files, by name. */
  files: FileSize[];
  /** The parsed `adapter_config.json`. */
  config: AdapterConfig;
}

/** Options for {@linkcode mergeAdapter}. */
export interface MergeAdapterOptions {
  /** The base model folder (or a Hub id in the cache) the adapter was trained on. */
  model: string;
  /** The adapter folder (e.g. a run's `adapter/`). */
  adapter: string;
  /** Where to write the merged model; a previous merged model there is replaced. */
  out: string;
}

/** A merged model folder, from {@linkcode mergeAdapter}. */
export interface MergedModel {
  /** The folder, as given in `out`. */
  dir: string;
  /** Its files (safetensors, config, tokenizer, chat template), by name. */
  files: FileSize[];
  /** Wall time of the whole call (Python start, loading, merging, saving). */
  seconds: number;
  /** Time of `merge_and_unload()` alone. */
  mergeSeconds: number;
  /** The dtype the weights were saved in: the base model's own (the merge itself runs in float32). */
  dtype: string;
}

/** Options for {@linkcode compareMergedLogits}. */
export interface CompareMergedOptions {
  /** The base model folder (or Hub id). */
  model: string;
  /** The adapter folder. */
  adapter: string;
  /** The merged model folder (from {@linkcode mergeAdapter}). */
  merged: string;
  /** Questions, or whole chats (the chat template is applied, with the generation prompt). */
  prompts: (string | Message[])[];
  /** Length of the greedy answers in tokens (default 24). */
  maxNewTokens?: number;
}

/** Base + adapter against the merged model, from {@linkcode compareMergedLogits}. */
export interface MergedComparison {
  /** Largest |logit(base + adapter) − logit(merged)| over every prompt, position and token. */
  maxAbsDiff: number;
  /** The same, per prompt. */
  perPrompt: number[];
  /** Largest |logit(base alone) − logit(merged)|: what the adapter changed (0 for a no-op merge). */
  baseMaxAbsDiff: number;
  /** Greedy answers of base + adapter (unmerged). */
  answersUnmerged: string[];
  /** Greedy answers of the merged model. */
  answersMerged: string[];
}

function _files(dir: string): FileSize[] {
  return [...Deno.readDirSync(dir)]
    .filter((e) => e.isFile)
    .map((e) => ({ name: e.name, bytes: Deno.statSync(`${dir}/${e.name}`).size }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Describes an adapter folder: its files with their sizes, and its parsed `adapter_config.json`.
 *
 * @param dir The adapter folder (e.g. `${run.dir}/adapter`).
 * @returns The files and the config.
 * @throws {Error} When the folder or its `adapter_config.json` is missing or unreadable, saying which
 * folder and what to pass instead.
 *
 * @example What a DoRA adapter folder says about itself
 * ```ts
 * import assert from "node:assert/strict";
 * import { adapterFolder } from "./merge.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/adapter_config.json`, JSON.stringify({ peft_type: "LORA", r: 8, use_dora: true }));
 * const { files, config } = adapterFolder(dir);
 * assert.deepEqual(files.map((f) => f.name), ["adapter_config.json"]);
 * assert.equal(config.r, 8);
 * assert.equal(config.use_dora, true);
 * ```
 */
export function adapterFolder(dir: string): AdapterFolder {
  const path = `${dir}/adapter_config.json`;
  if (!exists(path)) {
    const what = exists(dir) ? "has no adapter_config.json" : "does not exist";
    throw new Error(
      `Adapter folder ${dir} ${what} (paths are relative to ${Deno.cwd()}). ` +
        "Pass the adapter/ folder of a finished run, e.g. `${run.dir}/adapter`.",
    );
  }
  let config: AdapterConfig;
  try {
    config = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    throw new Error(
      `${path} is not valid JSON (${
        (e as Error).message
      }). Save the adapter again with PEFT's save_pretrained().`,
    );
  }
  return { dir, files: _files(dir), config };
}

/** Whether two paths name the same existing folder. */
function _same(a: string, b: string): boolean {
  try {
    return Deno.realPathSync(a) === Deno.realPathSync(b);
  } catch {
    return false;
  }
}

/**
 * Merges an adapter into its base model with PEFT's `merge_and_unload()` and saves a plain model
 * folder: safetensors weights (in the base's dtype), config, tokenizer and chat template. Works for
 * LoRA, DoRA and rsLoRA adapters, and for PiSSA/OLoRA adapters saved converted (a plain LoRA of rank
 * 2r). The merge is written next to `out` first, so a failed merge leaves an earlier one in place.
 *
 * @param options The base model, the adapter, the output folder.
 * @returns The merged folder, its files, and how long it took.
 * @throws {Error} One line naming the model and adapter and what to do: a missing adapter folder, an
 * adapter that does not fit the model, an `out` that is not a model folder (nothing is deleted then).
 *
 * @example Merge a run's adapter, then ask the merged model without PEFT
 * ```ts ignore
 * import { generate, mergeAdapter } from "./mod.ts";
 * import { trainRun } from "../train/train_run.ts";
 * import { numbersRecipe } from "../train/recipes.ts";
 * const run = await trainRun(numbersRecipe({ train: { maxSteps: 30 } }));
 * const merged = await mergeAdapter({ model: "data/models/ince-tiny", adapter: `${run.dir}/adapter`, out: `${run.dir}/merged` });
 * console.log(merged.files, merged.mergeSeconds);
 * console.log(await generate(merged.dir, ["Write 47 in Turkish words."]));
 * ```
 */
export async function mergeAdapter(options: MergeAdapterOptions): Promise<MergedModel> {
  const { model, adapter, out } = options;
  const t0 = performance.now();
  adapterFolder(adapter);
  const outAbs = absPath(out);
  if (_same(outAbs, model) || _same(outAbs, adapter)) {
    throw new Error(
      `Cannot merge into ${out}: it is the ${_same(outAbs, model) ? "base model" : "adapter"} folder. ` +
        "Choose a new folder for the merged model, e.g. `${run.dir}/merged`.",
    );
  }
  if (exists(outAbs)) {
    const inside = Deno.statSync(outAbs).isDirectory ? [...Deno.readDirSync(outAbs)] : null;
    if (!inside || (inside.length > 0 && !exists(`${outAbs}/config.json`))) {
      throw new Error(
        `Cannot merge into ${out}: it exists and is not a model folder, so it is left alone. ` +
          "Choose a new or empty folder for the merged model.",
      );
    }
  }
  Deno.mkdirSync(dirname(outAbs), { recursive: true });
  const staging = `${dirname(outAbs)}/.${basename(outAbs)}.merging-${crypto.randomUUID().slice(0, 8)}`;
  try {
    const answer = await runPythonJob(
      "merge.py",
      { task: "merge", model: modelArg(model), adapter: absPath(adapter), out: staging },
      `Merging ${adapter} into ${model}`,
      z.object({ mergeSeconds: z.number(), dtype: z.string() }),
    );
    if (exists(outAbs)) Deno.removeSync(outAbs, { recursive: true });
    Deno.renameSync(staging, outAbs);
    const seconds = (performance.now() - t0) / 1000;
    return {
      dir: out,
      files: _files(outAbs),
      seconds,
      mergeSeconds: answer.mergeSeconds,
      dtype: answer.dtype,
    };
  } finally {
    if (exists(staging)) Deno.removeSync(staging, { recursive: true });
  }
}

/**
 * Checks a merge: in one Python process, runs base + adapter (unmerged, PEFT) and the merged folder
 * (plain transformers) on each prompt, both in float32, and compares their logits over the whole
 * prompt, and their greedy answers. A faithful merge differs by float rounding only (≈1e-5).
 *
 * @param options The base model, adapter, merged folder and prompts.
 * @returns The largest logit difference (overall and per prompt), how far the base alone is from the
 * merged model, and both models' answers.
 * @throws {Error} One line naming the folders and what to do: a missing adapter, an adapter that does
 * not fit the model, a merged folder that does not load or encodes prompts differently.
 *
 * @example Merged and unmerged agree
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { compareMergedLogits } from "./merge.ts";
 * const model = "data/models/ince-tiny", adapter = "runs/my-run/adapter", merged = "runs/my-run/merged";
 * const c = await compareMergedLogits({ model, adapter, merged, prompts: ["Write 7 in English words."] });
 * assert.ok(c.maxAbsDiff < 1e-4);
 * assert.deepEqual(c.answersMerged, c.answersUnmerged);
 * ```
 */
export async function compareMergedLogits(options: CompareMergedOptions): Promise<MergedComparison> {
  const { model, adapter, merged, prompts } = options;
  adapterFolder(adapter);
  const r = await runPythonJob(
    "merge.py",
    {
      task: "compare",
      model: modelArg(model),
      adapter: absPath(adapter),
      merged: absPath(merged),
      prompts,
      maxNewTokens: options.maxNewTokens ?? 24,
    },
    `Comparing ${merged} with ${model} + ${adapter}`,
    z.object({
      perPrompt: z.array(z.number()),
      basePerPrompt: z.array(z.number()),
      answersUnmerged: z.array(z.string()),
      answersMerged: z.array(z.string()),
    }),
  );
  return {
    maxAbsDiff: Math.max(0, ...r.perPrompt),
    perPrompt: r.perPrompt,
    baseMaxAbsDiff: Math.max(0, ...r.basePerPrompt),
    answersUnmerged: r.answersUnmerged,
    answersMerged: r.answersMerged,
  };
}
