/**
 * What a trained adapter did to each weight matrix: merged with the base weights (LoRA, PiSSA saved as
 * LoRA, or DoRA with its magnitude vector), then DoRA's magnitude/direction change per matrix — the
 * measurements behind the DoRA paper's Figure 2.
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
  /** Mean |Δ row norm| (DoRA's ΔM). */
  deltaM: number;
  /** Mean (1 − cosine) between old and new rows (DoRA's ΔD). */
  deltaD: number;
}

async function _modelTensors(modelDir: string): Promise<Record<string, Tensor>> {
  const index = `${modelDir}/model.safetensors.index.json`;
  if (!exists(index)) return (await readSafetensors(`${modelDir}/model.safetensors`)).tensors;
  const files = new Set(
    Object.values(JSON.parse(Deno.readTextFileSync(index)).weight_map as Record<string, string>),
  );
  const all: Record<string, Tensor> = {};
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
  const tensors = await _modelTensors(modelDir);
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
 * @param modelDir The base model folder (`model.safetensors`, or shards with an index).
 * @param adapterDir The PEFT adapter folder (`adapter_model.safetensors`, `adapter_config.json`).
 * @returns One change per adapted matrix, by layer then module.
 * @throws {Error} When a file is missing or the adapter names weights the model does not have.
 *
 * @example Needs a trained adapter (a run's `adapter/` folder)
 * ```ts ignore
 * import { adapterWeightChanges } from "./weight_changes.ts";
 * const changes = await adapterWeightChanges("data/models/ince-tiny", "runs/<id>/adapter");
 * console.table(changes.filter((c) => c.module === "self_attn.q_proj"));
 * ```
 */
export async function adapterWeightChanges(modelDir: string, adapterDir: string): Promise<WeightChange[]> {
  const base = await _modelTensors(modelDir);
  const adapter = (await readSafetensors(`${adapterDir}/adapter_model.safetensors`)).tensors;
  const config = JSON.parse(Deno.readTextFileSync(`${adapterDir}/adapter_config.json`));
  const out: WeightChange[] = [];
  for (const key of Object.keys(adapter).filter((k) => k.endsWith(".lora_A.weight")).sort()) {
    const m = key.match(/layers\.(\d+)\.(.+)\.lora_A\.weight$/);
    if (!m) continue;
    const [layer, module] = [Number(m[1]), m[2]];
    const prefix = key.slice(0, -".lora_A.weight".length);
    const baseKey = `model.layers.${layer}.${module}.weight`;
    if (!base[baseKey]) {
      throw new Error(`${adapterDir}: adapter weight ${key} has no base weight ${baseKey} in ${modelDir}`);
    }
    const W = _matrix(base[baseKey], baseKey);
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
  return out.sort((a, b) => a.layer - b.layer || a.module.localeCompare(b.module));
}
