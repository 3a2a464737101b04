/**
 * The cache as a fallback when the Hub cannot serve a download, as Python's `huggingface_hub` does
 * (`_snapshot_download.py`, `snapshot_download`): when resolving the revision or listing its files
 * fails, the snapshot of `refs/<revision>` (or of the commit, when the revision is one) is used if it
 * is cached, and complete for the patterns asked for (`_raise_if_incomplete_snapshot`).
 *
 * ince falls back, with one line saying so, when the Hub is unreachable (a network error) or unavailable
 * (429, 5xx) after the retries. An error answer (401, 403, 404) is not taken as a reason to use the
 * cache: the error is raised, naming the cached snapshot and `HF_HUB_OFFLINE=1` as the way to use it
 * (huggingface_hub silently returns the cached snapshot there too, and raises only when nothing is cached).
 *
 * @module
 */
import { exists } from "../util/fs.ts";
import { isCommit, listSnapshot, readRef, readTree, repoCacheDir, snapshotDir } from "./cache_layout.ts";
import type { DownloadOptions, SnapshotResult } from "./download_types.ts";
import { HubHttpError } from "./hub_errors.ts";
import { selectFiles } from "./patterns.ts";
import type { RepoType } from "./repo_id.ts";
import { HubUnreachableError } from "./retry.ts";

/** A usable cached snapshot, or why there is none. */
export type CacheLookup = { snapshot: SnapshotResult; why?: undefined } | {
  snapshot?: undefined;
  why: string;
};

/**
 * The cached snapshot of a revision, if it holds every file the patterns ask for: the files of its tree
 * listing (`trees/<commit>.json`), or, without one, those in the snapshot folder (at least one).
 *
 * @param repo The repo id.
 * @param type `model` or `dataset`.
 * @param options Revision, patterns, cache folder and environment.
 * @returns `{ snapshot }`, or `{ why }` (one clause, e.g. `revision main of this model is not in the cache (…)`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cachedSnapshot } from "./cache_fallback.ts";
 * import { repoCacheDir, snapshotDir, writeRef } from "./cache_layout.ts";
 * const cacheDir = Deno.makeTempDirSync(), commit = "a".repeat(40);
 * const storage = repoCacheDir("org/m", "model", { cacheDir });
 * writeRef(storage, "main", commit);
 * Deno.mkdirSync(snapshotDir(storage, commit), { recursive: true });
 * Deno.writeTextFileSync(`${snapshotDir(storage, commit)}/config.json`, "{}");
 * assert.deepEqual(cachedSnapshot("org/m", "model", { cacheDir }).snapshot?.files, ["config.json"]);
 * assert.match(cachedSnapshot("org/m", "model", { cacheDir, revision: "v2" }).why!, /^revision v2 of this model is not in the cache/);
 * assert.equal(cachedSnapshot("org/m", "model", { cacheDir, allowPatterns: ["*.safetensors"] }).why, "no cached file matches the patterns");
 * ```
 */
export function cachedSnapshot(repo: string, type: RepoType, options: DownloadOptions): CacheLookup {
  const storage = repoCacheDir(repo, type, options);
  const revision = options.revision ?? "main";
  const commit = isCommit(revision) ? revision : readRef(storage, revision);
  if (!commit) return { why: `revision ${revision} of this ${type} is not in the cache (${storage})` };
  const snapshot = snapshotDir(storage, commit);
  const tree = readTree(storage, commit);
  const all = tree ? Object.keys(tree) : listSnapshot(snapshot);
  if (!all) return { why: `snapshot ${commit} is not in the cache` };
  const files = selectFiles(all.sort(), options);
  const missing = files.filter((f) => !exists(`${snapshot}/${f}`));
  if (missing.length) {
    return { why: `${missing.length} file(s) are not cached (${missing.slice(0, 3).join(", ")})` };
  }
  if (files.length === 0) return { why: "no cached file matches the patterns" };
  return { snapshot: { path: snapshot, commit, files, downloaded: [], requests: 0 } };
}

/**
 * What to do when resolving a revision failed: use the cached snapshot when the Hub could not be
 * reached (telling `options.retry.onNotice`, default `console.warn`, in one line), or throw one line.
 *
 * @param repo The repo id.
 * @param type `model` or `dataset`.
 * @param options As for the download.
 * @param error What resolving threw.
 * @returns The cached snapshot.
 * @throws {Error} `error` itself, or with what the cache holds (nothing to fall back to; or, after a
 *   401/403/404, the cached snapshot `HF_HUB_OFFLINE=1` would use).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cacheFallback } from "./cache_fallback.ts";
 * import { HubUnreachableError } from "./retry.ts";
 * const down = new HubUnreachableError(
 *   "org/m: cannot reach h for revision main (refused), 1 time. Check the connection.",
 *   "cannot reach h for revision main (refused)",
 * );
 * assert.throws(
 *   () => cacheFallback("org/m", "model", { cacheDir: Deno.makeTempDirSync() }, down),
 *   /^Error: org\/m: cannot reach h for revision main \(refused\), 1 time\. Nothing to fall back to: revision main of this model is not in the cache/,
 * );
 * ```
 */
export function cacheFallback(
  repo: string,
  type: RepoType,
  options: DownloadOptions,
  error: unknown,
): SnapshotResult {
  if (!(error instanceof HubUnreachableError || error instanceof HubHttpError)) throw error;
  const { snapshot, why } = cachedSnapshot(repo, type, options);
  if (error instanceof HubHttpError) {
    if (!snapshot) throw error;
    throw new Error(
      `${error.message} (A cached snapshot ${snapshot.commit.slice(0, 8)} exists: set HF_HUB_OFFLINE=1 ` +
        "to use it without asking the Hub.)",
    );
  }
  if (!snapshot) {
    throw new Error(
      error.status
        ? `${error.message} Nothing to fall back to: ${why}.`
        : `${error.message.replace(/ Check the connection.*$/, "")} Nothing to fall back to: ${why}. ` +
          "Check the connection and try again.",
    );
  }
  const notice = options.retry?.onNotice ?? ((line: string) => console.warn(line));
  notice(
    `${repo}: the Hub ${
      error.status ? "is unavailable" : "cannot be reached"
    } (${error.reason}); using the ` +
      `cached snapshot ${snapshot.commit.slice(0, 8)} (set HF_HUB_OFFLINE=1 to skip the Hub).`,
  );
  return snapshot;
}
