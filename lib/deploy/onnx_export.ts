/**
 * Exporting a model folder (e.g. a merged model) to one ONNX file with PyTorch's own exporter,
 * `torch.onnx.export(..., dynamo=True)` (onnxscript + onnx, pinned in `requirements/deploy.txt`): the graph
 * takes `input_ids` [1, seq] (int64, `seq` dynamic) and returns `logits` [1, seq, vocab], with no KV cache —
 * every call reads the whole sequence, which is what {@linkcode loadOnnx} does at each generated token.
 *
 * Why not optimum's exporter: `optimum` 2.x no longer contains one, and `optimum-onnx` (0.1.0, the latest)
 * requires `transformers < 4.58`, older than the transformers this project pins. Why onnxruntime-node
 * directly rather than `@huggingface/transformers` (transformers.js, which runs on onnxruntime too): its
 * text-generation pipeline expects optimum's layout (`onnx/model.onnx` with `past_key_values.*` inputs and
 * `present.*` outputs), which nothing here can produce; a logits-only graph plus a short greedy loop is
 * smaller and needs only `--allow-read --allow-ffi`.
 *
 * @module
 */
import { z } from "zod";
import { runPythonJob } from "../infer/_python_job.ts";
import { absPath, exists } from "../util/fs.ts";
import { ensureDeployPython } from "./deploy_tools.ts";

/** One ONNX file holds at most 2 GiB (a protobuf limit); bigger models need external data files. */
const ONNX_SINGLE_FILE_LIMIT = 2 ** 31;

/** Options of {@linkcode exportOnnx}. */
export interface ExportOnnxOptions {
  /** A model folder with `config.json` and `*.safetensors` weights (a merged model, or the built-in one). */
  model: string;
  /** The `.onnx` file to write (its folder is created). */
  out: string;
  /** ONNX opset (default 18). */
  opset?: number;
  /** Progress lines (default: stderr). */
  say?: (line: string) => void;
}

/** What {@linkcode exportOnnx} wrote. */
export interface OnnxExport {
  /** The `.onnx` file (absolute). */
  path: string;
  /** Its size in bytes (the weights are inside: one file, no external data). */
  bytes: number;
  /** Wall time of the export, Python start included. */
  seconds: number;
  /** The opset of the default ONNX domain, read back from the file. */
  opset: number;
}

const ExportAnswer = z.object({
  path: z.string(),
  bytes: z.number(),
  opset: z.number(),
  exportSeconds: z.number(),
  inputs: z.array(z.string()),
  outputs: z.array(z.string()),
});

/**
 * The checks {@linkcode exportOnnx} makes before starting Python: the folder, its `config.json`, its
 * safetensors weights (under the single-file limit) and the output name.
 *
 * @param model The model folder.
 * @param out The `.onnx` file to write.
 * @returns The parsed `config.json`.
 * @throws {Error} One line naming the file that is missing or wrong, and what to do.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkExportInputs } from "./onnx_export.ts";
 * assert.equal(checkExportInputs("data/models/ince-tiny", "out/m.onnx").vocab_size, 1024);
 * assert.throws(() => checkExportInputs("data/models/ince-tiny", "out/m.gguf"), /\.onnx/);
 * ```
 */
export function checkExportInputs(model: string, out: string): Record<string, unknown> {
  if (!out.endsWith(".onnx")) {
    throw new Error(`${out}: the ONNX output must be a file name ending in .onnx (e.g. out/model.onnx).`);
  }
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(model)];
  } catch {
    throw new Error(
      `${model}: no such model folder; give a folder with config.json and *.safetensors (e.g. a merged model).`,
    );
  }
  const configPath = `${model}/config.json`;
  if (!entries.some((e) => e.name === "config.json")) {
    throw new Error(
      `${configPath}: missing; a model folder needs its config.json (copy the base model's, or merge again).`,
    );
  }
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(Deno.readTextFileSync(configPath));
  } catch (e) {
    throw new Error(
      `${configPath}: not readable JSON (${(e as Error).message}); restore the model's config.json.`,
    );
  }
  const weights = entries.filter((e) => e.isFile && e.name.endsWith(".safetensors"));
  if (weights.length === 0) {
    throw new Error(
      `${model}: no *.safetensors weights; save the model with save_pretrained (mergeAdapter does) and export again.`,
    );
  }
  const bytes = weights.reduce((sum, w) => sum + Deno.statSync(`${model}/${w.name}`).size, 0);
  if (bytes >= ONNX_SINGLE_FILE_LIMIT) {
    throw new Error(
      `${model}: ${
        (bytes / 2 ** 30).toFixed(1)
      } GiB of weights do not fit one ONNX file (2 GiB protobuf limit); ` +
        "exportOnnx writes single files, so use the GGUF path for a model this size.",
    );
  }
  return config;
}

/**
 * Exports a model folder to one ONNX file (`input_ids` → `logits`, float32, no KV cache) with
 * `torch.onnx.export(dynamo=True)` in the project's Python (installing `requirements/deploy.txt` first if
 * needed).
 *
 * @param options The model folder, the `.onnx` file, the opset.
 * @returns The file, its size, the opset and the wall time.
 * @throws {Error} One line naming the file when the folder, `config.json` or the weights are missing or the
 * output is not a `.onnx` name (before Python starts); `Exporting … failed: <reason>` when the exporter fails.
 *
 * @example Export the built-in model (needs the Python environment)
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { exportOnnx } from "./onnx_export.ts";
 * const onnx = await exportOnnx({ model: "data/models/ince-tiny", out: "out/ince-tiny.onnx" });
 * assert.ok(onnx.bytes > 7_000_000 && onnx.opset === 18);
 * ```
 */
export async function exportOnnx(options: ExportOnnxOptions): Promise<OnnxExport> {
  const config = checkExportInputs(options.model, options.out);
  const started = performance.now();
  await ensureDeployPython({ say: options.say });
  const out = absPath(options.out);
  Deno.mkdirSync(out.slice(0, out.lastIndexOf("/")) || "/", { recursive: true });
  const maxSequence = typeof config.max_position_embeddings === "number"
    ? config.max_position_embeddings
    : 4096;
  const job = { model: absPath(options.model), out, opset: options.opset ?? 18, maxSequence };
  const result = await runPythonJob(
    "deploy/python/export_onnx.py",
    job,
    `Exporting ${options.model} to ONNX`,
    ExportAnswer,
  );
  if (!exists(result.path)) throw new Error(`${result.path}: the exporter reported it but it is not there.`);
  return {
    path: result.path,
    bytes: result.bytes,
    seconds: (performance.now() - started) / 1000,
    opset: result.opset,
  };
}
