/**
 * A model's linear layers (the matrices LoRA can target), read from its safetensors headers alone,
 * and how many parameters a LoRA or DoRA adapter on some of them trains.
 *
 * @module
 */
import {
  type DownloadOptions,
  downloadSnapshot,
  fetchRepoFile,
  hubOffline,
  isLocalModel,
  resolveModel,
  resolveTree,
  safetensorsHeader,
} from "../hub/mod.ts";
import { readSafetensorsHeader, type SafetensorsHeader } from "../math/safetensors.ts";
import { adapterMatrixParams } from "./lora.ts";

/** One linear layer of a decoder block. */
export interface LinearModule {
  /** The module's name as PyTorch's `named_modules()` gives it; its weight is `${name}.weight`. */
  name: string;
  /** The last part of the name, e.g. `"q_proj"`: what PEFT's `target_modules` lists. */
  type: string;
  /** `[out, in]`, as `nn.Linear.weight` stores it. */
  shape: [number, number];
  /** The decoder layer (block) index. */
  layer: number;
}

/** All linear layers of one type. */
export interface LinearModuleType {
  type: string;
  count: number;
  /** The distinct `[out, in]` shapes (one, unless blocks differ). */
  shapes: [number, number][];
  /** Weights of all layers of this type: Σ out·in. */
  params: number;
}

/** What {@linkcode listLinearModules} found: the layers sorted by block then name, and a summary per type. */
export interface LinearModules {
  modules: LinearModule[];
  byType: LinearModuleType[];
}

/** Where to look: revision, token, endpoint, cache, offline mode (as for `downloadModel`). */
export type ListLinearModulesOptions = Omit<
  DownloadOptions,
  "allowPatterns" | "ignorePatterns" | "concurrency" | "progress"
>;

const _INDEX = "model.safetensors.index.json";
const _WEIGHTS = ["model.safetensors", _INDEX, "model-*.safetensors"];

/** What the listing needs from a folder or a Hub repo. */
interface _Source {
  where: string;
  files: string[];
  json(path: string): Promise<{ weight_map?: Record<string, string> }>;
  header(path: string): Promise<SafetensorsHeader>;
}

/**
 * Lists a model's linear layers from its safetensors headers, without loading weights: every 2-D
 * `.weight` inside the decoder layers (`….layers.<i>.…`). Embeddings and `lm_head` are left out, as
 * PEFT's `target_modules="all-linear"` leaves out the output layer.
 *
 * @param model A folder (starting with `.` or `/`; `model.safetensors` or shards with
 *   `model.safetensors.index.json`) or a Hub id: read from the Hub cache when it holds the weights,
 *   else from the Hub with HTTP range requests for the headers only.
 * @param options Revision, token, endpoint, cache folder, offline mode.
 * @returns The layers and a summary per type.
 * @throws {Error} One line naming the folder or repo when there are no safetensors weights, or as
 *   for `resolveModel` (missing folder) and `downloadModel` (HTTP errors, offline cache misses).
 *
 * @example The built-in tiny Llama: 5 blocks × 7 linear layers
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { listLinearModules } from "./linear_modules.ts";
 * const { modules, byType } = await listLinearModules(`${projectRoot()}/data/models/ince-tiny`);
 * assert.equal(modules.length, 35);
 * assert.deepEqual(byType.find((t) => t.type === "down_proj"), {
 *   type: "down_proj", count: 5, shapes: [[160, 448]], params: 5 * 160 * 448,
 * });
 * ```
 */
export async function listLinearModules(
  model: string,
  options: ListLinearModulesOptions = {},
): Promise<LinearModules> {
  const folder = isLocalModel(model) ? await resolveModel(model) : await _cachedSnapshot(model, options);
  const source = folder ? _folder(folder) : await _hub(model, options);
  let shards = ["model.safetensors"];
  if (source.files.includes(_INDEX)) {
    shards = [...new Set(Object.values((await source.json(_INDEX)).weight_map ?? {}))].sort();
  } else if (!source.files.includes("model.safetensors")) {
    throw new Error(
      `${source.where}: no model.safetensors or ${_INDEX}. listLinearModules reads safetensors headers ` +
        "only: save the model with save_pretrained() (safetensors is its default) or pass another model.",
    );
  }
  const modules: LinearModule[] = [];
  for (const shard of shards) {
    for (const [key, t] of Object.entries(await source.header(shard))) {
      const layer = key.match(/(?:^|\.)layers\.(\d+)\./);
      if (!layer || !key.endsWith(".weight") || t.shape.length !== 2) continue;
      const name = key.slice(0, -".weight".length);
      modules.push({
        name,
        type: name.slice(name.lastIndexOf(".") + 1),
        shape: [t.shape[0], t.shape[1]],
        layer: Number(layer[1]),
      });
    }
  }
  modules.sort((a, b) => a.layer - b.layer || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const byType = new Map<string, LinearModuleType>();
  for (const m of modules) {
    const s = byType.get(m.type) ?? { type: m.type, count: 0, shapes: [], params: 0 };
    s.count++;
    s.params += m.shape[0] * m.shape[1];
    if (!s.shapes.some(([o, i]) => o === m.shape[0] && i === m.shape[1])) s.shapes.push([...m.shape]);
    byType.set(m.type, s);
  }
  return { modules, byType: [...byType.values()] };
}

/** Options for {@linkcode predictTrainableParams}. */
export interface PredictTrainableParamsOptions {
  /** The LoRA rank. */
  r: number;
  /** `"all-linear"`, or PEFT's `target_modules`: a module matches a name it equals or ends with `.name`. */
  targets: "all-linear" | string[];
  /** DoRA adds a magnitude vector of `out` values per matrix (default `"lora"`). */
  adapter?: "lora" | "dora";
}

/** What {@linkcode predictTrainableParams} predicts: the total and its split by module type. */
export interface TrainableParams {
  trainable: number;
  byType: { type: string; count: number; params: number }[];
}

/**
 * The trainable parameters of an adapter, as PEFT's `get_nb_trainable_parameters()` counts them:
 * `r·(in + out)` per targeted matrix (A is r×in, B is out×r), plus `out` with DoRA.
 *
 * @param modules The layers, e.g. `(await listLinearModules(model)).modules`.
 * @param options Rank, targets and adapter.
 * @returns The total and the count per module type.
 * @throws {Error} When the rank is not a whole number ≥ 1, or a target matches no layer (listing the types).
 *
 * @example One 8×4 layer: LoRA r=2 trains 2·(4+8) = 24, DoRA 8 more
 * ```ts
 * import assert from "node:assert/strict";
 * import { predictTrainableParams } from "./linear_modules.ts";
 * const modules = [{ name: "model.layers.0.mlp.up_proj", type: "up_proj", shape: [8, 4] as [number, number], layer: 0 }];
 * assert.equal(predictTrainableParams(modules, { r: 2, targets: "all-linear" }).trainable, 24);
 * assert.deepEqual(predictTrainableParams(modules, { r: 2, targets: ["up_proj"], adapter: "dora" }), {
 *   trainable: 32, byType: [{ type: "up_proj", count: 1, params: 32 }],
 * });
 * ```
 */
export function predictTrainableParams(
  modules: readonly LinearModule[],
  options: PredictTrainableParamsOptions,
): TrainableParams {
  const { r, targets } = options;
  if (!Number.isInteger(r) || r < 1) throw new Error(`LoRA rank must be a whole number ≥ 1; got ${r}.`);
  const types = [...new Set(modules.map((m) => m.type))];
  const hits = (m: LinearModule, t: string) => m.name === t || m.name.endsWith(`.${t}`);
  if (targets !== "all-linear") {
    const unknown = targets.filter((t) => !modules.some((m) => hits(m, t)));
    if (unknown.length || targets.length === 0) {
      const what = targets.length
        ? `Target module(s) ${unknown.join(", ")} match no linear layer`
        : "No targets";
      throw new Error(`${what}: use some of ${types.join(", ")}, or "all-linear".`);
    }
  }
  const byType = new Map<string, { type: string; count: number; params: number }>();
  for (const m of modules) {
    if (targets !== "all-linear" && !targets.some((t) => hits(m, t))) continue;
    const [out, inp] = m.shape;
    const s = byType.get(m.type) ?? { type: m.type, count: 0, params: 0 };
    s.count++;
    s.params += adapterMatrixParams(inp, out, r, { dora: options.adapter === "dora" });
    byType.set(m.type, s);
  }
  const rows = [...byType.values()];
  return { trainable: rows.reduce((a, s) => a + s.params, 0), byType: rows };
}

/** The Hub cache's snapshot when it holds the weights; undefined when not cached (and not offline). */
async function _cachedSnapshot(repo: string, options: ListLinearModulesOptions): Promise<string | undefined> {
  try {
    return (await downloadSnapshot(repo, "model", { ...options, offline: true, allowPatterns: _WEIGHTS }))
      .path;
  } catch (e) {
    if (options.offline ?? hubOffline(options.env ?? Deno.env.toObject())) throw e;
    return undefined;
  }
}

function _folder(dir: string): _Source {
  return {
    where: dir,
    files: [...Deno.readDirSync(dir)].map((e) => e.name),
    json: async (path) => JSON.parse(await Deno.readTextFile(`${dir}/${path}`)),
    header: (path) => readSafetensorsHeader((s, e) => _readRange(`${dir}/${path}`, s, e), `${dir}/${path}`),
  };
}

async function _hub(repo: string, options: ListLinearModulesOptions): Promise<_Source> {
  const { hub, auth, commit, tree } = await resolveTree(repo, { ...options, type: "model" });
  const ref = (path: string) => ({ hub, repo, type: "model" as const, commit, path, auth });
  return {
    where: `${repo} (${commit.slice(0, 8)})`,
    files: Object.keys(tree),
    json: async (path) => await (await fetchRepoFile(ref(path))).res.json(),
    header: (path) => safetensorsHeader(ref(path)),
  };
}

/** Bytes `start..end` (inclusive) of a file, fewer at its end. */
async function _readRange(path: string, start: number, end: number): Promise<Uint8Array> {
  const file = await Deno.open(path);
  try {
    await file.seek(start, Deno.SeekMode.Start);
    const out = new Uint8Array(end - start + 1);
    let got = 0;
    while (got < out.length) {
      const n = await file.read(out.subarray(got));
      if (n === null) break;
      got += n;
    }
    return out.subarray(0, got);
  } finally {
    file.close();
  }
}
