/**
 * The inputs one linear layer of a model sees on some prompts, recorded by transformers in a separate
 * Python process (a forward pre-hook): the calibration data of GPTQ, and the held-out data on which to
 * judge any quantization by its output error.
 *
 * @module
 */
import { z } from "zod";
import { absPath, modelArg, runPythonJob } from "../infer/_python_job.ts";
import { type Matrix, matrix } from "../math/matrix.ts";
import { readSafetensors } from "../math/safetensors.ts";

/** Options for {@linkcode layerInputs}. */
export interface LayerInputsOptions {
  /** Keep at most this many token rows (prompts are run until it is reached). */
  maxTokens?: number;
}

/**
 * Runs each prompt through the model (as a user message in its chat template) and returns the
 * inputs of `moduleName`, one row per token.
 *
 * @param model The model folder (or a Hub id in the cache).
 * @param moduleName The linear module, e.g. `model.layers.2.mlp.down_proj`.
 * @param prompts The prompts (e.g. instructions of a dataset).
 * @param options Token limit.
 * @returns A `tokens × in_features` matrix.
 * @throws {Error} With Python's one-line reason when the model or module is not found.
 *
 * @example Calibration and held-out inputs of a layer
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { layerInputs } from "./layer_inputs.ts";
 * const x = await layerInputs("data/models/ince-tiny", "model.layers.2.mlp.down_proj", ["Write 47 in Turkish words."]);
 * assert.equal(x.cols, 448); // down_proj's input: the MLP's intermediate size
 * ```
 */
export async function layerInputs(
  model: string,
  moduleName: string,
  prompts: string[],
  options: LayerInputsOptions = {},
): Promise<Matrix> {
  if (options.maxTokens !== undefined && !(Number.isInteger(options.maxTokens) && options.maxTokens > 0)) {
    throw new Error(`layerInputs: maxTokens ${options.maxTokens} must be a positive whole number.`);
  }
  const out = await Deno.makeTempFile({ prefix: "ince-layer-inputs-", suffix: ".safetensors" });
  try {
    const job = {
      model: modelArg(model),
      module: moduleName,
      prompts,
      maxTokens: options.maxTokens ?? null,
      out: absPath(out),
    };
    const r = await runPythonJob(
      "layer_inputs.py",
      job,
      `Recording the inputs of ${moduleName} in ${model}`,
      z.object({ rows: z.number().int(), cols: z.number().int() }),
    );
    const t = (await readSafetensors(out)).tensors.inputs;
    return matrix(r.rows, r.cols, t.data as Float32Array);
  } finally {
    await Deno.remove(out).catch(() => {});
  }
}
