/**
 * Small file-system helpers shared by the library.
 *
 * @module
 */

/**
 * Whether a path exists (following symlinks: a dangling link does not count).
 *
 * @param path The path.
 * @returns True when `stat` succeeds.
 *
 * @example
 * ```ts
 * import { exists } from "./fs.ts";
 * console.log(exists("/")); // true
 * ```
 */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A path made absolute against the current folder (a notebook's cwd is its own folder; the Python
 * process needs the full path).
 *
 * @param path A path.
 * @returns The absolute path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { absPath } from "./fs.ts";
 * assert.equal(absPath("/tmp/x"), "/tmp/x");
 * assert.equal(absPath("runs/a"), `${Deno.cwd()}/runs/a`);
 * ```
 */
export function absPath(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/**
 * A model argument for Python: an existing folder made absolute; anything else is a Hub id, passed as
 * it is (transformers finds it in the shared cache).
 *
 * @param model A model folder or Hub id.
 * @returns What to hand to `from_pretrained`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelArg } from "./fs.ts";
 * assert.equal(modelArg("Qwen/Qwen2.5-0.5B-Instruct"), "Qwen/Qwen2.5-0.5B-Instruct");
 * assert.equal(modelArg("."), `${Deno.cwd()}/.`);
 * ```
 */
export function modelArg(model: string): string {
  return exists(model) ? absPath(model) : model;
}
