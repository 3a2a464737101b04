/**
 * Merging an adapter into its base with LLaMA-Factory's own `llamafactory-cli export`: a plain transformers
 * model folder (config.json, model.safetensors, tokenizer, chat template, an Ollama `Modelfile`) that loads
 * anywhere, ince's main environment included.
 *
 * @module
 */
import { stringify } from "yaml";
import { absPath } from "../util/fs.ts";
import { modelArg } from "../util/model_source.ts";
import { runCommand } from "../util/run_command.ts";
import { llamaFactoryPython } from "./environment.ts";

/** What {@linkcode exportLlamaFactory} merges, and where to. */
export interface ExportLlamaFactoryOptions {
  /** The base model (folder or Hub id) the adapter was trained on. */
  model: string;
  /** The adapter folder (a LLaMA-Factory run's `output/`, or any PEFT LoRA adapter). */
  adapter: string;
  /** The folder for the merged model (made if missing; files in it are replaced). */
  exportDir: string;
  /** The chat template written with it (default `chatml`, ince-tiny's). */
  template?: string;
  /** The dtype of the merged weights (default `float32`: LLaMA-Factory's `auto` picks bf16 where the machine has it). */
  dtype?: "float32" | "bfloat16" | "float16";
  /** Extra environment for LLaMA-Factory. */
  env?: Record<string, string>;
}

/** The merged model. */
export interface ExportedModel {
  /** The folder holding it (absolute). */
  dir: string;
  /** Wall time of the export, in seconds. */
  seconds: number;
  /** The export YAML LLaMA-Factory was given (also kept as `<dir>/llamafactory_export.yaml`). */
  yaml: string;
}

/**
 * Merges an adapter into its base with `llamafactory-cli export` (on the CPU, dtype pinned), in
 * LLaMA-Factory's environment.
 *
 * @param options Base model, adapter, output folder, template, dtype.
 * @returns The merged model's folder and how long the export took.
 * @throws {Error} When LLaMA-Factory fails (its last log lines), e.g. an adapter trained on another base.
 *
 * @example Merge a LLaMA-Factory run's adapter (its `output/` folder) into the base model
 * ```ts ignore
 * import { exportLlamaFactory } from "./export.ts";
 * const runDir = "runs/20261127T204822-lf-sft-e85a";
 * const merged = await exportLlamaFactory({ model: "data/models/ince-tiny", adapter: `${runDir}/output`, exportDir: "runs/merged" });
 * console.log(merged.dir, merged.seconds);
 * ```
 */
export async function exportLlamaFactory(options: ExportLlamaFactoryOptions): Promise<ExportedModel> {
  const dir = absPath(options.exportDir);
  const keys = {
    model_name_or_path: modelArg(options.model),
    adapter_name_or_path: absPath(options.adapter),
    template: options.template ?? "chatml",
    finetuning_type: "lora",
    export_dir: dir,
    export_device: "cpu",
    infer_dtype: options.dtype ?? "float32",
    export_legacy_format: false,
  };
  const yaml = `# LLaMA-Factory export config (written by lib/llamafactory/export.ts)\n${stringify(keys)}`;
  Deno.mkdirSync(dir, { recursive: true });
  const file = `${dir}/llamafactory_export.yaml`;
  Deno.writeTextFileSync(file, yaml);
  const t0 = performance.now();
  await runCommand(
    await llamaFactoryPython(),
    ["-m", "llamafactory.cli", "export", file],
    `Merging ${keys.adapter_name_or_path} into ${keys.model_name_or_path} with llamafactory-cli export`,
    { cwd: dir, env: { HF_HUB_OFFLINE: "1", TOKENIZERS_PARALLELISM: "false", ...options.env } },
  );
  return { dir, seconds: Math.round(performance.now() - t0) / 1000, yaml };
}
