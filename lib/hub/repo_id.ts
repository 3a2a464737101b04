/**
 * Repository ids, their folder in the cache, and how a model argument is told apart from a local path.
 *
 * @module
 */

/** A model or dataset repository. */
export type RepoType = "model" | "dataset";

/**
 * Checks a repo id (`name` or `org/name`) the way the Hub does.
 *
 * @param repo The id.
 * @returns The id, unchanged.
 * @throws {Error} Saying what is wrong with it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRepoId } from "./repo_id.ts";
 * assert.equal(checkRepoId("Qwen/Qwen2.5-0.5B-Instruct"), "Qwen/Qwen2.5-0.5B-Instruct");
 * assert.throws(() => checkRepoId("org/a--b"), /is not a valid Hub repo id/);
 * ```
 */
export function checkRepoId(repo: string): string {
  const parts = repo.split("/");
  const ok = parts.length <= 2 && parts.every((p) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$/.test(p)) &&
    !repo.includes("--") && !repo.includes("..") && !repo.endsWith(".git");
  if (!ok) {
    throw new Error(
      `"${repo}" is not a valid Hub repo id: use "name" or "org/name" with letters, digits, "-", "_" and "." ` +
        `(no "--" or ".."), e.g. "Qwen/Qwen2.5-0.5B-Instruct".`,
    );
  }
  return repo;
}

/**
 * The repo's folder name in the cache, as Python names it: `models--org--name`.
 *
 * @param repo The repo id.
 * @param type Model or dataset.
 * @returns The folder name.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { repoFolderName } from "./repo_id.ts";
 * assert.equal(repoFolderName("org/name", "dataset"), "datasets--org--name");
 * ```
 */
export function repoFolderName(repo: string, type: RepoType): string {
  return `${type}s--${checkRepoId(repo).replaceAll("/", "--")}`;
}

/**
 * Rejects file names that would escape the snapshot folder.
 *
 * @param path A file name from the repo listing.
 * @returns The name, unchanged.
 * @throws {Error} On absolute paths, `..` segments and backslashes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkRepoFilePath } from "./repo_id.ts";
 * assert.equal(checkRepoFilePath("onnx/model.onnx"), "onnx/model.onnx");
 * assert.throws(() => checkRepoFilePath("../escape.txt"), /Refusing the file name/);
 * ```
 */
export function checkRepoFilePath(path: string): string {
  const segments = path.split("/");
  if (
    !path || path.startsWith("/") || path.includes("\\") ||
    segments.some((s) => s === ".." || s === "." || s === "")
  ) {
    throw new Error(`Refusing the file name "${path}": it would be written outside the snapshot folder.`);
  }
  return path;
}

/** Whether a model argument names a local folder rather than a Hub repo id (the one rule lives in `lib/util/model_source.ts`). */
export { isLocalModel } from "../util/model_source.ts";
