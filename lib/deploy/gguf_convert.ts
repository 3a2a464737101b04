/**
 * Converting a Hugging Face model folder (a merged fine-tune, or the built-in model) to one GGUF file with
 * llama.cpp's own converter, `convert_hf_to_gguf.py` at {@linkcode LLAMA_CPP_TAG} — the same llama.cpp the
 * quantizer and runtime come from — run by `lib/deploy/python/convert_gguf.py` in the project's Python.
 *
 * The converter is used unchanged, with one addition in the wrapper: llama.cpp recognises a BPE tokenizer's
 * pre-tokenizer by a hash of how it splits a test text, so it refuses a tokenizer it has never seen (like
 * ince-tiny's). The wrapper maps ONLY the plain GPT-2 ByteLevel pre-tokenizer (regex on, no prefix space, no
 * normalizer) to llama.cpp's `"gpt-2"`, which implements exactly that split; any other unknown tokenizer is
 * still refused.
 *
 * The inputs are checked here first (config.json, tokenizer.json, an architecture the converter supports,
 * weights), because the converter's own messages for a broken folder are misleading (a missing
 * tokenizer.json surfaces as "need sentencepiece or tiktoken to convert a slow tokenizer").
 *
 * @module
 */
import { z } from "zod";
import { ensureDeployPython, ensureLlamaCppConverter, LLAMA_CPP_TAG } from "./deploy_tools.ts";
import { absPath, runPythonJob } from "../infer/_python_job.ts";
import { exists } from "../util/fs.ts";

/** Options of {@linkcode convertToGguf}. */
export interface ConvertOptions {
  /** A model folder with `config.json`, `tokenizer.json` and `*.safetensors` (e.g. a merged adapter). */
  model: string;
  /** The `.gguf` file to write (its folder is created). */
  out: string;
  /** Tensor type of the weights: `"f32"` (exact) or `"f16"` (half the size); norms stay F32 either way. */
  outType: "f32" | "f16";
  /** Progress lines for first-time installs (default `console.error`). */
  say?: (line: string) => void;
}

/** What {@linkcode convertToGguf} wrote. */
export interface ConvertResult {
  /** The GGUF file. */
  path: string;
  /** Its size in bytes. */
  bytes: number;
  /** Wall time, Python start-up included. */
  seconds: number;
}

/**
 * The Hugging Face architectures (`config.json` `architectures[0]`) llama.cpp's converter converts to a
 * text model: the keys of `TEXT_MODEL_MAP`, its registry in `conversion/__init__.py`, read from the file.
 *
 * @param converterDir The converter's folder ({@linkcode ensureLlamaCppConverter}).
 * @returns The architecture names, sorted.
 * @throws {Error} When the registry cannot be found in the converter's source (a different converter layout).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { converterArchitectures } from "./gguf_convert.ts";
 * import { ensureLlamaCppConverter } from "./deploy_tools.ts";
 * const archs = converterArchitectures(await ensureLlamaCppConverter());
 * assert.ok(archs.includes("LlamaForCausalLM") && archs.includes("Qwen2ForCausalLM"));
 * ```
 */
export function converterArchitectures(converterDir: string): string[] {
  const file = `${converterDir}/conversion/__init__.py`;
  const source = Deno.readTextFileSync(file);
  const block = source.match(/^TEXT_MODEL_MAP\b[^=\n]*=\s*\{([\s\S]*?)^\}/m);
  const names = block
    ? [...block[1].matchAll(/^\s*"([^"]+)"\s*:\s*"[^"]+"\s*,?\s*(?:#.*)?$/gm)].map((m) => m[1])
    : [];
  if (names.length === 0) {
    throw new Error(
      `${file}: no TEXT_MODEL_MAP registry found; this is not the converter layout of llama.cpp ${LLAMA_CPP_TAG}.`,
    );
  }
  return [...new Set(names)].sort();
}

function _readConfig(model: string): Record<string, unknown> {
  const file = `${model}/config.json`;
  let text: string;
  try {
    text = Deno.readTextFileSync(file);
  } catch {
    throw new Error(
      `${file}: missing; convertToGguf needs a Hugging Face model folder (config.json, tokenizer.json, ` +
        "*.safetensors), e.g. the output of mergeAdapter.",
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid JSON (${(e as Error).message}); restore the model's config.json.`);
  }
}

/**
 * Checks a model folder before conversion: `config.json`, `tokenizer.json`, weights, and an architecture
 * in the converter's registry.
 *
 * @param model The model folder.
 * @param converterDir The converter's folder.
 * @returns The architecture (`architectures[0]`).
 * @throws {Error} One line naming the file that is missing or wrong, and what to do.
 *
 * @example The built-in model passes; a folder that is not a model does not
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkConvertible } from "./gguf_convert.ts";
 * import { ensureLlamaCppConverter } from "./deploy_tools.ts";
 * const converter = await ensureLlamaCppConverter();
 * assert.equal(checkConvertible("data/models/ince-tiny", converter), "LlamaForCausalLM");
 * assert.throws(() => checkConvertible("notebooks", converter), /^Error: notebooks\/config\.json: missing; /);
 * ```
 */
export function checkConvertible(model: string, converterDir: string): string {
  if (!exists(model) || !Deno.statSync(model).isDirectory) {
    throw new Error(
      `${model}: no such model folder; give the folder of a Hugging Face model (e.g. a merged adapter).`,
    );
  }
  const config = _readConfig(model);
  if (!exists(`${model}/tokenizer.json`)) {
    throw new Error(
      `${model}/tokenizer.json: missing; llama.cpp's converter needs the fast tokenizer file — copy ` +
        "tokenizer.json (and tokenizer_config.json) from the base model into this folder.",
    );
  }
  const weights = [...Deno.readDirSync(model)].some((e) => e.isFile && e.name.endsWith(".safetensors"));
  if (!weights) {
    throw new Error(
      `${model}: no weights (*.safetensors); save the model with save_pretrained (safetensors).`,
    );
  }
  const archs = config.architectures;
  const arch = Array.isArray(archs) && typeof archs[0] === "string" ? archs[0] : undefined;
  if (!arch) {
    throw new Error(`${model}/config.json: no "architectures" entry; save the model with save_pretrained.`);
  }
  const supported = converterArchitectures(converterDir);
  if (!supported.includes(arch)) {
    const near = supported.filter((a) => a.replace(/For.*/, "") === arch.replace(/For.*/, ""));
    throw new Error(
      `${model}/config.json: architecture ${arch} is not one llama.cpp ${LLAMA_CPP_TAG}'s converter supports ` +
        `(${supported.length} are, e.g. LlamaForCausalLM, Qwen2ForCausalLM${
          near.length ? `, ${near.join(", ")}` : ""
        }); ` +
        "use a model of a supported architecture.",
    );
  }
  return arch;
}

/**
 * Converts a model folder to GGUF with llama.cpp's converter.
 *
 * @param options The model folder, the output file, the tensor type.
 * @returns The file written, its size, the wall time.
 * @throws {Error} One line naming the file at fault: a missing `config.json` / `tokenizer.json` / weights,
 * an architecture the converter does not support, a tokenizer it cannot map, or the converter's own error.
 *
 * @example The built-in model, exact and half size
 * ```ts ignore
 * import { convertToGguf } from "./gguf_convert.ts";
 * const f32 = await convertToGguf({ model: "data/models/ince-tiny", out: "out/ince-tiny-f32.gguf", outType: "f32" });
 * const f16 = await convertToGguf({ model: "data/models/ince-tiny", out: "out/ince-tiny-f16.gguf", outType: "f16" });
 * console.log(f32.bytes, f16.bytes); // 7042368 3540288
 * ```
 */
export async function convertToGguf(options: ConvertOptions): Promise<ConvertResult> {
  const t0 = performance.now();
  const { outType } = options;
  if (outType !== "f32" && outType !== "f16") {
    throw new Error(`convertToGguf: outType must be "f32" or "f16", not ${JSON.stringify(outType)}.`);
  }
  const given = options.model.replace(/(.)\/+$/, "$1");
  const model = absPath(given);
  const out = absPath(options.out);
  const converter = await ensureLlamaCppConverter({ say: options.say });
  checkConvertible(given, converter);
  await ensureDeployPython({ say: options.say });
  Deno.mkdirSync(out.replace(/\/[^/]*$/, "") || "/", { recursive: true });
  const answer = await runPythonJob(
    "deploy/python/convert_gguf.py",
    { converter, model, out, outType },
    `Converting ${options.model} to GGUF (${outType})`,
    z.object({ path: z.string(), bytes: z.number(), seconds: z.number(), architecture: z.string() }),
  );
  return { path: answer.path, bytes: answer.bytes, seconds: (performance.now() - t0) / 1000 };
}
