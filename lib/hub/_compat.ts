/**
 * The old positional form of `resolveTree`, kept only while `lib/adapters/linear_modules.ts` still
 * calls it (issue #22). Delete this file once that caller uses `resolveTree(repo, options)`.
 *
 * @module
 */
import { dirname } from "node:path";
import type { Env } from "./hub_env.ts";
import type { RepoType } from "./repo_id.ts";
import {
  type ResolvedTree,
  resolveTree as resolveRepoTree,
  type ResolveTreeOptions,
} from "./resolve_tree.ts";

/**
 * Resolves a revision to its commit and file list.
 *
 * @deprecated Use `resolveTree(repo, { type, revision, cacheDir, env, ... })` from `./resolve_tree.ts`.
 * @param repo The repo id.
 * @param type Model or dataset.
 * @param storage The repo's cache folder (`<cacheDir>/models--org--name`).
 * @param revision Branch, tag or commit.
 * @param options Endpoint and token.
 * @param env The environment for defaults.
 * @returns As for the options form.
 */
export function resolveTree(
  repo: string,
  type: RepoType,
  storage: string,
  revision: string,
  options: ResolveTreeOptions,
  env: Env,
): Promise<ResolvedTree> {
  return resolveRepoTree(repo, { ...options, type, revision, env, cacheDir: dirname(storage) });
}
