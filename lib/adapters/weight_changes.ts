/**
 * What fine-tuning did to each weight matrix: a trained adapter merged with the base weights (LoRA, PiSSA
 * saved as LoRA, or DoRA with its magnitude vector), or a fully fine-tuned model's own weights, compared
 * with the base by DoRA's magnitude/direction change per matrix — the measurements behind the DoRA
 * paper's Figure 2 (over training: `weight_changes_over_training.ts`).
 *
 * Rows, not columns: the paper (Liu et al. 2024, Sec. 3) splits `W` into a magnitude per *column*, but its
 * `W` is in×out; PyTorch stores a linear weight as out×in, and PEFT and the authors' code take the norm of
 * each *output row* (`torch.linalg.norm(weight, dim=1)`; the first author explains the paper's layout in nbasyl/DoRA
 * issue #1). So here ΔM and ΔD are means over the rows of the out×in weight: one per output unit.
 *
 * @module
 */
import { type Matrix, matrix } from "../math/matrix.ts";
import { readSafetensors, type Tensor } from "../math/safetensors.ts";
import { loraMerge } from "./lora.ts";
import { doraMerge, magnitudeDirectionChange } from "./dora.ts";
import { exists } from "../util/fs.ts";

/** The change of one weight matrix. */
export interface WeightChange {
  /** Decoder layer index. */
  layer: number;
  /** Module path inside the layer, e.g. `self_attn.q_proj`. */
  module: string;
  /** Mean over output rows of |‖w_tuned‖ − ‖w_0‖| (DoRA's ΔM). */
  deltaM: number;
  /** Mean over output rows of 1 − cos(w_tuned, w_0) (DoRA's ΔD). */
  deltaD: number;
}

/** Which matrices to measure. */
export interface WeightChangeOptions {
  /**
   * Only this kind of matrix, matched at the end of its module path: `"q_proj"` or `"self_attn.q_proj"`
   * (default: every matrix the adapter or the fine-tune changed).
   */
  module?: string;
}

/** A model's tensors by name (read once with {@linkcode readModelWeights} to compare many checkpoints). */
export type ModelWeights = Record<string, Tensor>;

/**
 * Every tensor of a model folder: one `model.safetensors`, or the shards a `model.safetensors.index.json`
 * names.
 *
 * @param modelDir The model folder.
 * @returns The tensors by name (floats widened to float32).
 * @throws {Error} When the folder has neither file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { readModelWeights } from "./weight_changes.ts";
 * const w = await readModelWeights(`${projectRoot()}/data/models/ince-tiny`);
 * assert.deepEqual(w["model.layers.0.self_attn.q_proj.weight"].shape, [160, 160]);
 * ```
 */
export async function readModelWeights(modelDir: string): Promise<ModelWeights> {
  const index = `${modelDir}/model.safetensors.index.json`;
  if (!exists(index)) {
    if (!exists(`${modelDir}/model.safetensors`)) {
      throw new Error(
        `${modelDir}: no model.safetensors or model.safetensors.index.json; pass a model folder (a full fine-tune's model/ or checkpoint-N/).`,
      );
    }
    return (await readSafetensors(`${modelDir}/model.safetensors`)).tensors;
  }
  const files = new Set(
    Object.values(JSON.parse(Deno.readTextFileSync(index)).weight_map as Record<string, string>),
  );
  const all: ModelWeights = {};
  for (const f of files) Object.assign(all, (await readSafetensors(`${modelDir}/${f}`)).tensors);
  return all;
}

function _matrix(t: Tensor, what: string): Matrix {
  if (!(t.data instanceof Float32Array)) {
    throw new Error(
      `${what}: a ${t.dtype} tensor, not a float weight matrix; pick a weight of a linear layer.`,
    );
  }
  return matrix(t.shape[0], t.shape[1] ?? 1, t.data);
}

function _matches(module: string, wanted: string | undefined): boolean {
  return wanted === undefined || module === wanted || module.endsWith(`.${wanted}`);
}

function _sorted(out: WeightChange[], where: string, wanted: string | undefined): WeightChange[] {
  if (out.length === 0) {
    throw new Error(
      `${where}: no changed matrix${
        wanted ? ` named "${wanted}"` : ""
      }; name a module the run trained (e.g. "q_proj").`,
    );
  }
  return out.sort((a, b) => a.layer - b.layer || a.module.localeCompare(b.module));
}

/**
 * One weight matrix of a model on disk (single `model.safetensors` or shards with an index).
 *
 * @param modelDir The model folder.
 * @param name The tensor name, e.g. `model.layers.0.self_attn.q_proj.weight`.
 * @returns The weight as a float32 matrix (out×in).
 * @throws {Error} When the name is not in the model, listing a few that are.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { readWeight } from "./weight_changes.ts";
 * const W = await readWeight(`${projectRoot()}/data/models/ince-tiny`, "model.layers.0.self_attn.q_proj.weight");
 * assert.deepEqual([W.rows, W.cols], [160, 160]);
 * ```
 */
export async function readWeight(modelDir: string, name: string): Promise<Matrix> {
  const tensors = await readModelWeights(modelDir);
  const t = tensors[name];
  if (!t) {
    const some = Object.keys(tensors).filter((k) => k.endsWith("_proj.weight")).slice(0, 3).join(", ");
    throw new Error(`${modelDir}: no tensor "${name}"; weights look like: ${some}.`);
  }
  return _matrix(t, name);
}

/**
 * Merges a trained adapter into the base weights and measures each matrix's change.
 *
 * @param base The base model folder (`model.safetensors`, or shards with an index), or its weights read
 *   once with {@linkcode readModelWeights}.
 * @param adapterDir The PEFT adapter folder (`adapter_model.safetensors`, `adapter_config.json`): a run's
 *   `adapter/` or one of its `checkpoints/checkpoint-N/`.
 * @param options `module` to measure one kind of matrix only.
 * @returns One change per adapted matrix, by layer then module.
 * @throws {Error} When a file is missing, the adapter names weights the model does not have, no adapted
 *   matrix matches `module`, or it is a PiSSA/OLoRA checkpoint (relative to the run's changed base; only
 *   the run's final `adapter/` is converted to a LoRA on the original weights).
 *
 * @example Needs a trained adapter (a run's `adapter/` folder)
 * ```ts ignore
 * import { adapterWeightChanges } from "./weight_changes.ts";
 * const changes = await adapterWeightChanges("data/models/ince-tiny", "runs/<id>/adapter", { module: "q_proj" });
 * console.table(changes);
 * ```
 */
export async function adapterWeightChanges(
  base: string | ModelWeights,
  adapterDir: string,
  options: WeightChangeOptions = {},
): Promise<WeightChange[]> {
  const weights = typeof base === "string" ? await readModelWeights(base) : base;
  const baseName = typeof base === "string" ? base : "the base model";
  const adapter = (await readSafetensors(`${adapterDir}/adapter_model.safetensors`)).tensors;
  const config = JSON.parse(Deno.readTextFileSync(`${adapterDir}/adapter_config.json`));
  const init = String(config.init_lora_weights);
  if (/^(pissa|olora)/.test(init)) {
    throw new Error(
      `${adapterDir}: a ${init} adapter is relative to the base its initialisation changed; measure the run's final adapter/ (converted to a LoRA on the original weights) instead.`,
    );
  }
  const out: WeightChange[] = [];
  for (const key of Object.keys(adapter).filter((k) => k.endsWith(".lora_A.weight")).sort()) {
    const m = key.match(/layers\.(\d+)\.(.+)\.lora_A\.weight$/);
    if (!m || !_matches(m[2], options.module)) continue;
    const [layer, module] = [Number(m[1]), m[2]];
    const prefix = key.slice(0, -".lora_A.weight".length);
    const baseKey = `model.layers.${layer}.${module}.weight`;
    if (!weights[baseKey]) {
      throw new Error(`${adapterDir}: adapter weight ${key} has no base weight ${baseKey} in ${baseName}`);
    }
    const W = _matrix(weights[baseKey], baseKey);
    const lora = {
      A: _matrix(adapter[key], key),
      B: _matrix(adapter[`${prefix}.lora_B.weight`], `${prefix}.lora_B.weight`),
      alpha: config.lora_alpha,
      rslora: !!config.use_rslora,
    };
    const mag = adapter[`${prefix}.lora_magnitude_vector`] ??
      adapter[`${prefix}.lora_magnitude_vector.weight`];
    const tuned = mag
      ? (await doraMerge(W, { ...lora, magnitude: mag.data as Float32Array })).merged
      : await loraMerge(W, lora);
    out.push({ layer, module, ...magnitudeDirectionChange(W, tuned) });
  }
  return _sorted(out, adapterDir, options.module);
}

/**
 * Measures each decoder-layer matrix of a fully fine-tuned model against the base: the DoRA paper's "FT".
 *
 * @param base The base model folder, or its weights read once with {@linkcode readModelWeights}.
 * @param tunedDir The tuned model folder: a full fine-tune's `model/` or one of its
 *   `checkpoints/checkpoint-N/` (`model.safetensors`).
 * @param options `module` to measure one kind of matrix only.
 * @returns One change per 2-D weight in `model.layers.*` that matches, by layer then module.
 * @throws {Error} When a folder has no weights, a base matrix is missing from the tuned model, or none
 *   matches `module`.
 *
 * @example A model compared with itself has not changed
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { modelWeightChanges } from "./weight_changes.ts";
 * const tiny = `${projectRoot()}/data/models/ince-tiny`;
 * const q = await modelWeightChanges(tiny, tiny, { module: "q_proj" });
 * assert.deepEqual(q.map((c) => [c.layer, c.module, c.deltaM]), [0, 1, 2, 3, 4].map((l) => [l, "self_attn.q_proj", 0]));
 * assert.ok(q.every((c) => Math.abs(c.deltaD) < 1e-6));
 * ```
 */
export async function modelWeightChanges(
  base: string | ModelWeights,
  tunedDir: string,
  options: WeightChangeOptions = {},
): Promise<WeightChange[]> {
  const weights = typeof base === "string" ? await readModelWeights(base) : base;
  const tuned = await readModelWeights(tunedDir);
  const out: WeightChange[] = [];
  for (const [key, t] of Object.entries(weights)) {
    const m = key.match(/^model\.layers\.(\d+)\.(.+)\.weight$/);
    if (!m || t.shape.length !== 2 || !_matches(m[2], options.module)) continue;
    if (!tuned[key]) {
      throw new Error(`${tunedDir}: no ${key}; compare a model of the same architecture as the base.`);
    }
    const change = magnitudeDirectionChange(_matrix(t, key), _matrix(tuned[key], `${tunedDir}: ${key}`));
    out.push({ layer: Number(m[1]), module: m[2], ...change });
  }
  return _sorted(out, tunedDir, options.module);
}
