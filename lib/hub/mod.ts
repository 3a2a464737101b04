/**
 * The Hugging Face Hub: downloads into the cache Python shares, and model facts without downloading.
 *
 * Why ince has its own client rather than `@huggingface/hub`: the lessons train in Python and explore
 * in TypeScript, so both must use one cache. This client writes exactly the layout of Python's
 * `huggingface_hub` (`models--org--name/{blobs,snapshots/<commit>,refs,trees/<commit>.json}`, see
 * `cache_layout.ts`), resolves `HF_HOME`, `HF_HUB_CACHE`, `HF_ENDPOINT`, `HF_TOKEN` and
 * `HF_HUB_OFFLINE` as Python does, resumes and sha256-checks downloads, and works offline and against
 * the local fake Hub the tests start on 127.0.0.1. `@huggingface/hub`'s `downloadFileToCacheDir`
 * names snapshots after each file's last commit and neither resumes nor verifies, so it cannot share
 * a cache with Python.
 *
 * It survives a real Hub's faults as huggingface_hub does: tree listings over several pages (`Link`
 * header), retries with backoff on 429/5xx and network errors (honouring `Retry-After`, bounded),
 * resumable transfers (also from servers that ignore `Range`), a checksum on every file (sha256 for
 * LFS, the git blob id for the rest), and huggingface_hub's own lock files, so Python and TypeScript
 * can download the same blob at the same time.
 *
 * One file per step: `resolve_tree.ts` (revision → commit → file list), `patterns.ts` (which files),
 * `hub_http.ts` (requests), `retry.ts` (backoff), `hub_errors.ts` (401/403/404 as one line),
 * `fetch_blob.ts` (one file, resumed and verified) with `blob_lock.ts` and `blob_checksum.ts`,
 * `cache_layout.ts` (where things go), `download.ts` (the entry points), `model_info.ts` (facts from
 * safetensors headers). The cache-layout and blob helpers are internal and not exported here.
 *
 * @example A local folder is used as it is; a Hub id would be downloaded
 * ```ts
 * import assert from "node:assert/strict";
 * import { isLocalModel, resolveModel } from "./mod.ts";
 * assert.equal(isLocalModel("Qwen/Qwen2.5-0.5B-Instruct"), false);
 * assert.equal(await resolveModel("./data/models/ince-tiny"), "./data/models/ince-tiny");
 * ```
 *
 * @module
 */
export * from "./hub_env.ts";
export * from "./repo_id.ts";
export * from "./patterns.ts";
export {
  downloadDataset,
  downloadModel,
  type DownloadOptions,
  downloadSnapshot,
  resolveModel,
  type SnapshotResult,
} from "./download.ts";
export { type ResolvedTree, resolveTree, type ResolveTreeOptions } from "./resolve_tree.ts";
export { fetchRepoFile, type HubRepo, type RepoFileRef } from "./hub_http.ts";
export { HubUnreachableError, type RetryOptions } from "./retry.ts";
export { HubHttpError } from "./hub_errors.ts";
export { cachedSnapshot, cacheFallback, type CacheLookup } from "./cache_fallback.ts";
export * from "./model_info.ts";
