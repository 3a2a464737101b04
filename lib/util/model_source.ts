/**
 * "Local folder or Hub id?" — the one rule, used by the Hub client, the trainer, generation and every
 * Python job. It is transformers' own rule made explicit: an existing folder is local; a string that
 * looks like a path (it starts with `/` or `.`) is local too (and an error if missing); anything else is a
 * Hub repo id. Local folders are handed to Python as absolute paths, so the Python side only has to
 * ask "is it absolute?".
 *
 * @module
 */
import { absPath, exists } from "./fs.ts";

/** Where a model comes from. */
export type ModelSource = { kind: "local"; path: string } | { kind: "hub"; id: string };

/**
 * Classifies a model argument (see the module doc for the rule).
 *
 * @param model A folder path or a Hub repo id.
 * @returns `{ kind: "local", path }` with an absolute path, or `{ kind: "hub", id }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelSource } from "./model_source.ts";
 * assert.deepEqual(modelSource("Qwen/Qwen2.5-0.5B-Instruct"), { kind: "hub", id: "Qwen/Qwen2.5-0.5B-Instruct" });
 * assert.deepEqual(modelSource("./no-such-folder"), { kind: "local", path: `${Deno.cwd()}/./no-such-folder` });
 * assert.deepEqual(modelSource("/"), { kind: "local", path: "/" });
 * ```
 */
export function modelSource(model: string): ModelSource {
  return isLocalModel(model) ? { kind: "local", path: absPath(model) } : { kind: "hub", id: model };
}

/**
 * Whether a model argument names a local folder rather than a Hub repo id (the rule in the module doc).
 *
 * @param model A folder path or a Hub repo id.
 * @returns True for a local folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLocalModel } from "./model_source.ts";
 * assert.equal(isLocalModel("./data/models/ince-tiny"), true);
 * assert.equal(isLocalModel("/models/qwen"), true);
 * assert.equal(isLocalModel("Qwen/Qwen2.5-0.5B-Instruct"), false);
 * ```
 */
export function isLocalModel(model: string): boolean {
  return model.startsWith("/") || model.startsWith(".") || exists(model);
}

/**
 * A model argument for Python: a local folder as an absolute path, a Hub id as it is (transformers
 * finds it in the shared cache).
 *
 * @param model A model folder or Hub id.
 * @returns What to hand to `from_pretrained`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelArg } from "./model_source.ts";
 * assert.equal(modelArg("Qwen/Qwen2.5-0.5B-Instruct"), "Qwen/Qwen2.5-0.5B-Instruct");
 * assert.equal(modelArg("."), `${Deno.cwd()}/.`);
 * ```
 */
export function modelArg(model: string): string {
  const source = modelSource(model);
  return source.kind === "local" ? source.path : source.id;
}
