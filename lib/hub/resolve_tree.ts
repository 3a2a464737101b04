/**
 * A repo revision's commit and file list, as `huggingface_hub` 2.x gets them: resolve the revision to a
 * commit (`/api/{type}s/{repo}/revision/{rev}`, recorded in `refs/<rev>`), then list the tree at that
 * commit (`/api/{type}s/{repo}/tree/{commit}`, following its pages: `Link: <…>; rel="next"`), cached
 * forever in `trees/<commit>.json`, the same file Python writes and reads. Written only once every page
 * has come, so an interrupted listing is never cached.
 *
 * @module
 */
import { type Env, hubEndpoint, hubToken } from "./hub_env.ts";
import { isCommit, readTree, repoCacheDir, type TreeEntry, writeRef, writeTree } from "./cache_layout.ts";
import { fetchHubApi, type HubRepo } from "./hub_http.ts";
import type { RepoType } from "./repo_id.ts";
import type { RetryOptions } from "./retry.ts";

/** Which revision to resolve, and where: the Hub, the token and the cache. */
export interface ResolveTreeOptions {
  /** Model or dataset (default `model`). */
  type?: RepoType;
  /** Branch, tag or commit (default `main`). */
  revision?: string;
  /** Access token (default: `HF_TOKEN` or Python's token file). Never printed or stored. */
  token?: string;
  /** Hub address (default `HF_ENDPOINT` or https://huggingface.co). */
  hubUrl?: string;
  /** Cache folder (default: as Python resolves `HF_HUB_CACHE`). */
  cacheDir?: string;
  /** Environment to read defaults from (default: the process environment). */
  env?: Env;
  /** How failed requests are retried (default: as huggingface_hub, 5 retries from 1 s). */
  retry?: RetryOptions;
  /**
   * How the revision → commit request is retried (default: `retry`). huggingface_hub does not retry
   * it (`repo_info`); ince does so only when a usable snapshot is cached, to fall back to it at once.
   */
  revisionRetry?: RetryOptions;
}

/** The commit and file list of a repo revision, and what is needed to fetch its files. */
export interface ResolvedTree extends HubRepo {
  commit: string;
  /** Each file's size and blob id by path (LFS files: also their sha256 and real size). */
  tree: Record<string, TreeEntry>;
  /** The repo's cache folder (`…/models--org--name`). */
  storage: string;
  /** HTTP requests made: 0 for a cached commit, 1 for a branch whose tree is cached. */
  requests: number;
}

/**
 * Resolves a revision to its commit and file list (the list is cached per commit, shared with Python).
 *
 * @param repo The repo id.
 * @param options Type, revision, token, endpoint, cache folder.
 * @returns The Hub, auth headers, commit, file list, cache folder and the requests it took.
 * @throws {Error} One line on an invalid id, HTTP or network errors.
 *
 * @example The files of a model at its current `main`
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { resolveTree } from "./resolve_tree.ts";
 * const { commit, tree } = await resolveTree("Qwen/Qwen2.5-0.5B-Instruct", { revision: "main" });
 * assert.match(commit, /^[0-9a-f]{40}$/);
 * assert.ok("config.json" in tree);
 * ```
 */
export async function resolveTree(repo: string, options: ResolveTreeOptions = {}): Promise<ResolvedTree> {
  const env = options.env ?? Deno.env.toObject();
  const type = options.type ?? "model", revision = options.revision ?? "main";
  const storage = repoCacheDir(repo, type, { cacheDir: options.cacheDir, env });
  const hub = (options.hubUrl ?? hubEndpoint(env)).replace(/\/+$/, "");
  const token = options.token ?? hubToken(env);
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const on: HubRepo = { hub, repo, type, auth, ...(options.retry ? { retry: options.retry } : {}) };
  const api = `${hub}/api/${type}s/${repo}`;
  let requests = 0;

  // 1. Revision → commit.
  let commit = revision;
  if (!isCommit(revision)) {
    requests++;
    const res = await fetchHubApi(
      `${api}/revision/${encodeURIComponent(revision)}`,
      `revision ${revision}`,
      options.revisionRetry ? { ...on, retry: options.revisionRetry } : on,
    );
    commit = String((await res.json()).sha ?? "");
    if (!isCommit(commit)) throw new Error(`${repo}: the Hub gave no commit for revision ${revision}.`);
    writeRef(storage, revision, commit);
  }

  // 2. The tree at that commit: immutable, so cached forever.
  let tree = readTree(storage, commit);
  if (!tree) {
    tree = {};
    let url: string | null = `${api}/tree/${commit}?recursive=true&expand=false`;
    while (url) {
      requests++;
      const res = await fetchHubApi(url, "the file list", on);
      for (const f of await res.json()) {
        if (f.type !== "file") continue;
        tree[f.path] = {
          size: f.size,
          blob_id: f.oid,
          ...(f.lfs ? { lfs_sha256: f.lfs.oid, lfs_size: f.lfs.size } : {}),
        };
      }
      const next = res.headers.get("link")?.match(/<([^>]+)>\s*;\s*rel="?next"?/);
      url = next ? new URL(next[1], hub).href : null;
    }
    writeTree(storage, commit, tree);
  }
  return { ...on, commit, tree, storage, requests };
}
