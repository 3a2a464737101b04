/**
 * Downloading Hub repositories into the cache Python's `huggingface_hub` uses, with retries, resume,
 * a checksum of every file, huggingface_hub's lock files, offline mode and a progress bar; and a
 * lesson's `MODEL` (a path or a Hub id) as a local folder.
 *
 * The steps, one file each: {@linkcode resolveTree} (revision → commit → file list), `selectFiles`
 * (allow/ignore globs), `cache_layout.ts` (blobs, snapshots, refs, trees), `fetchBlob` (one file,
 * locked, resumed and verified).
 *
 * @module
 */
import { formatBytes, progressBar } from "../display/progress.ts";
import { exists } from "../util/fs.ts";
import { cachedSnapshot, cacheFallback } from "./cache_fallback.ts";
import { blobPath, fileSize, linkSnapshotFile, snapshotDir } from "./cache_layout.ts";
import { fetchBlob } from "./fetch_blob.ts";
import { hubOffline } from "./hub_env.ts";
import { selectFiles } from "./patterns.ts";
import { checkRepoFilePath, isLocalModel, type RepoType } from "./repo_id.ts";
import { type ResolvedTree, resolveTree } from "./resolve_tree.ts";
import type { DownloadOptions, SnapshotResult } from "./download_types.ts";

export type { DownloadOptions, SnapshotResult } from "./download_types.ts";

/**
 * Downloads (or finds in the cache) a model repository.
 *
 * @param repo The repo id, e.g. `"Qwen/Qwen2.5-0.5B-Instruct"`.
 * @param options Revision, file patterns, token, endpoint, offline mode.
 * @returns The local snapshot folder.
 * @throws {Error} One line saying what failed (bad id, 401/404, checksum, offline miss) and what to do.
 *
 * @example Only the weights and tokenizer
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { downloadModel } from "./download.ts";
 * const dir = await downloadModel("Qwen/Qwen2.5-0.5B-Instruct", { allowPatterns: ["*.safetensors", "*.json"] });
 * assert.ok(Deno.statSync(`${dir}/model.safetensors`).isFile);
 * ```
 */
export async function downloadModel(repo: string, options: DownloadOptions = {}): Promise<string> {
  return (await downloadSnapshot(repo, "model", options)).path;
}

/**
 * Downloads (or finds in the cache) a dataset repository.
 *
 * @param repo The repo id.
 * @param options As for {@linkcode downloadModel}.
 * @returns The local snapshot folder.
 * @throws {Error} As for {@linkcode downloadModel}.
 *
 * @example
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { downloadDataset } from "./download.ts";
 * const dir = await downloadDataset("tatsu-lab/alpaca", { allowPatterns: ["*.parquet"] });
 * assert.match(dir, /datasets--tatsu-lab--alpaca\/snapshots\/[0-9a-f]{40}$/);
 * ```
 */
export async function downloadDataset(repo: string, options: DownloadOptions = {}): Promise<string> {
  return (await downloadSnapshot(repo, "dataset", options)).path;
}

/**
 * A lesson's `MODEL` parameter as a local folder: a path ({@linkcode isLocalModel}) is used as it is;
 * anything else is a Hub repo id, downloaded (or found in the cache) with {@linkcode downloadModel}.
 *
 * @param model A folder path or a Hub repo id.
 * @param options As for {@linkcode downloadModel}.
 * @returns The local folder.
 * @throws {Error} When a path has no config.json (say which), or as for {@linkcode downloadModel}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveModel } from "./download.ts";
 * assert.equal(await resolveModel("./data/models/ince-tiny"), "./data/models/ince-tiny");
 * await assert.rejects(resolveModel("./data/models/nope"), /no model folder here/);
 * ```
 */
export async function resolveModel(model: string, options: DownloadOptions = {}): Promise<string> {
  if (!isLocalModel(model)) return await downloadModel(model, options);
  if (!exists(`${model}/config.json`)) {
    throw new Error(
      `${model}: no model folder here (no config.json; paths are relative to ${Deno.cwd()}). ` +
        'Use a folder with a Hugging Face model, or a Hub id such as "Qwen/Qwen2.5-0.5B-Instruct".',
    );
  }
  return model;
}

/**
 * Downloads a repository snapshot, reporting what came from the cache.
 *
 * @param repo The repo id.
 * @param type `model` or `dataset`.
 * @param options As for {@linkcode downloadModel}.
 * @returns The snapshot folder, commit, files, what was downloaded and how many requests it took.
 * @throws {Error} As for {@linkcode downloadModel}.
 *
 * @example Offline, a cache miss says what to do
 * ```ts
 * import assert from "node:assert/strict";
 * import { downloadSnapshot } from "./download.ts";
 * const cacheDir = Deno.makeTempDirSync();
 * await assert.rejects(
 *   downloadSnapshot("org/tiny", "model", { cacheDir, offline: true }),
 *   /org\/tiny: offline \(HF_HUB_OFFLINE\) and revision main of this model is not in the cache/,
 * );
 * ```
 */
export async function downloadSnapshot(
  repo: string,
  type: RepoType,
  options: DownloadOptions = {},
): Promise<SnapshotResult> {
  const env = options.env ?? Deno.env.toObject();
  if (options.offline ?? hubOffline(env)) return _fromCache(repo, type, { ...options, env });

  // With a usable snapshot cached, resolving the revision is tried once (huggingface_hub's `repo_info`
  // is not retried) and a Hub that cannot be reached falls back to the cache (`cache_fallback.ts`).
  const cached = cachedSnapshot(repo, type, { ...options, env }).snapshot;
  const revisionRetry = cached ? { ...options.retry, retries: 0 } : undefined;
  let resolved: ResolvedTree;
  try {
    resolved = await resolveTree(repo, {
      ...options,
      type,
      env,
      ...(revisionRetry ? { revisionRetry } : {}),
    });
  } catch (e) {
    return cacheFallback(repo, type, { ...options, env }, e);
  }
  const { commit, tree, storage } = resolved;
  const files = selectFiles(Object.keys(tree).sort(), options);
  for (const f of files) checkRepoFilePath(f);
  const snapshot = snapshotDir(storage, commit);
  const todo: string[] = [];
  for (const f of files) {
    if (exists(`${snapshot}/${f}`)) continue;
    if (exists(blobPath(storage, tree[f]))) linkSnapshotFile(storage, commit, f, tree[f]);
    else todo.push(f);
  }
  const requests = resolved.requests + await _fetchAll(resolved, todo, options);
  return { path: snapshot, commit, files, downloaded: todo, requests };
}

/** Fetches `todo` with `concurrency` workers and a progress bar, linking each file into the snapshot. */
async function _fetchAll(resolved: ResolvedTree, todo: string[], options: DownloadOptions): Promise<number> {
  const { repo, commit, tree, storage } = resolved;
  const bar = options.progress === false || todo.length === 0 ? undefined : progressBar({
    label: `${repo} (${todo.length} file${todo.length > 1 ? "s" : ""})`,
    total: todo.reduce((s, f) => s + fileSize(tree[f]), 0),
    unit: "bytes",
  });
  let done = 0, requests = 0;
  const inFlight = new Map<string, number>();
  const detail = () =>
    [...inFlight].map(([f, n]) => {
      const size = fileSize(tree[f]);
      return `  ${f} ${Math.round((100 * n) / (size || 1))}% ${formatBytes(n)}/${formatBytes(size)}`;
    }).join("\n");
  const queue = [...todo];
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      inFlight.set(f, 0);
      requests += await fetchBlob({ ...resolved, path: f, entry: tree[f] }, (n) => {
        done += n;
        inFlight.set(f, inFlight.get(f)! + n);
        bar?.update(done, detail());
      });
      inFlight.delete(f);
      linkSnapshotFile(storage, commit, f, tree[f]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 4, todo.length) }, worker));
  await bar?.finish("done");
  return requests;
}

/** The snapshot from the cache alone (offline mode): every wanted file must be there. */
function _fromCache(repo: string, type: RepoType, options: DownloadOptions): SnapshotResult {
  const { snapshot, why } = cachedSnapshot(repo, type, options);
  if (snapshot) return snapshot;
  throw new Error(
    `${repo}: offline (HF_HUB_OFFLINE) and ${why}. Download it once with the network on, or unset HF_HUB_OFFLINE.`,
  );
}
