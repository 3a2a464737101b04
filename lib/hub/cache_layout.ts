/**
 * The folder layout of Python `huggingface_hub`'s cache. ince reads and writes it the same way, so a
 * model downloaded by either side is found by the other without a request:
 *
 * ```text
 * <cache>/models--org--name/            (datasets--org--name for a dataset)
 *   blobs/<sha256 or git blob id>       each file's bytes, stored once
 *   snapshots/<commit>/<path>           relative symlinks into blobs/
 *   refs/<revision>                     the commit a branch or tag pointed to when last resolved
 *   trees/<commit>.json                 the file list at that commit ({ format_version: 1, files })
 * ```
 *
 * These helpers are used by the downloader; `mod.ts` does not export them.
 *
 * @module
 */
import { dirname, relative } from "node:path";
import { type Env, hubCacheDir } from "./hub_env.ts";
import { repoFolderName, type RepoType } from "./repo_id.ts";

/** One file of a tree listing, as Python caches it in `trees/<commit>.json`. */
export interface TreeEntry {
  /** Bytes of the git object (for an LFS file: of its pointer). */
  size: number;
  /** The git blob id. */
  blob_id: string;
  /** An LFS file's sha256: its blob's name, and the checksum the download must match. */
  lfs_sha256?: string;
  /** An LFS file's real size. */
  lfs_size?: number;
}

const _COMMIT = /^[0-9a-f]{40}$/;

/**
 * Whether a revision is already a commit hash (40 lowercase hex digits), so it needs no resolving.
 *
 * @param revision A branch, tag or commit.
 * @returns True for a full commit hash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isCommit } from "./cache_layout.ts";
 * assert.equal(isCommit("main"), false);
 * assert.equal(isCommit("a".repeat(40)), true);
 * ```
 */
export function isCommit(revision: string): boolean {
  return _COMMIT.test(revision);
}

/**
 * A repo's folder in the cache: `<cache>/models--org--name`.
 *
 * @param repo The repo id.
 * @param type Model or dataset.
 * @param options The cache folder (default: as Python resolves `HF_HUB_CACHE` from `env`).
 * @returns The folder (it may not exist yet).
 * @throws {Error} On an invalid repo id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { repoCacheDir } from "./cache_layout.ts";
 * assert.equal(repoCacheDir("org/m", "model", { cacheDir: "/c" }), "/c/models--org--m");
 * assert.equal(repoCacheDir("org/m", "model", { env: { HF_HOME: "/hf" } }), "/hf/hub/models--org--m");
 * ```
 */
export function repoCacheDir(
  repo: string,
  type: RepoType,
  options: { cacheDir?: string; env?: Env } = {},
): string {
  return `${options.cacheDir ?? hubCacheDir(options.env)}/${repoFolderName(repo, type)}`;
}

/**
 * Where a file's bytes live: `blobs/<sha256>` for an LFS file, `blobs/<git blob id>` otherwise.
 *
 * @param storage The repo's cache folder ({@linkcode repoCacheDir}).
 * @param entry The file's tree entry.
 * @returns The blob path.
 */
export function blobPath(storage: string, entry: TreeEntry): string {
  return `${storage}/blobs/${entry.lfs_sha256 ?? entry.blob_id}`;
}

/**
 * A file's real size in bytes (an LFS file's, not its pointer's).
 *
 * @param entry The file's tree entry.
 * @returns The size.
 */
export function fileSize(entry: TreeEntry): number {
  return entry.lfs_size ?? entry.size;
}

/**
 * The snapshot folder of a commit: `snapshots/<commit>`.
 *
 * @param storage The repo's cache folder.
 * @param commit The commit hash.
 * @returns The folder.
 */
export function snapshotDir(storage: string, commit: string): string {
  return `${storage}/snapshots/${commit}`;
}

/**
 * The commit a revision pointed to when it was last resolved (`refs/<revision>`).
 *
 * @param storage The repo's cache folder.
 * @param revision A branch or tag.
 * @returns The commit, or undefined when the revision was never resolved into this cache.
 */
export function readRef(storage: string, revision: string): string | undefined {
  try {
    return Deno.readTextFileSync(`${storage}/refs/${revision}`).trim();
  } catch {
    return undefined;
  }
}

/**
 * Records that a revision points to a commit (written atomically, only when it changed).
 *
 * @param storage The repo's cache folder.
 * @param revision A branch or tag.
 * @param commit The commit hash.
 */
export function writeRef(storage: string, revision: string, commit: string): void {
  if (readRef(storage, revision) !== commit) _writeAtomic(`${storage}/refs/${revision}`, commit);
}

/**
 * The cached file list of a commit (`trees/<commit>.json`, written by ince or Python).
 *
 * @param storage The repo's cache folder.
 * @param commit The commit hash.
 * @returns Each file's entry by path, or undefined when not cached (or in an unknown format).
 */
export function readTree(storage: string, commit: string): Record<string, TreeEntry> | undefined {
  try {
    const cached = JSON.parse(Deno.readTextFileSync(`${storage}/trees/${commit}.json`));
    return cached.format_version === 1 ? cached.files : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Caches a commit's file list. A commit never changes, so this file is never refreshed.
 *
 * @param storage The repo's cache folder.
 * @param commit The commit hash.
 * @param files Each file's entry by path.
 */
export function writeTree(storage: string, commit: string, files: Record<string, TreeEntry>): void {
  _writeAtomic(
    `${storage}/trees/${commit}.json`,
    JSON.stringify({ format_version: 1, files }, null, 1),
  );
}

/**
 * Points `snapshots/<commit>/<path>` at its blob with a relative symlink, as Python does (so the
 * cache folder can be moved), atomically replacing whatever was there.
 *
 * @param storage The repo's cache folder.
 * @param commit The commit hash.
 * @param path The repo file path (already checked with `checkRepoFilePath`).
 * @param entry The file's tree entry.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linkSnapshotFile } from "./cache_layout.ts";
 * const storage = Deno.makeTempDirSync();
 * linkSnapshotFile(storage, "c0ffee", "tokenizer/vocab.json", { size: 2, blob_id: "b1" });
 * assert.equal(Deno.readLinkSync(`${storage}/snapshots/c0ffee/tokenizer/vocab.json`), "../../../blobs/b1");
 * ```
 */
export function linkSnapshotFile(storage: string, commit: string, path: string, entry: TreeEntry): void {
  const pointer = `${snapshotDir(storage, commit)}/${path}`;
  Deno.mkdirSync(dirname(pointer), { recursive: true });
  // A new link renamed over the old one: another process linking the same file at the same time
  // (ince or Python) never sees it missing, and neither fails on the other's link.
  const tmp = `${pointer}.${Deno.pid}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  Deno.symlinkSync(relative(dirname(pointer), blobPath(storage, entry)), tmp);
  Deno.renameSync(tmp, pointer);
}

/**
 * The files under a snapshot folder (for a snapshot whose tree file is missing).
 *
 * @param snapshot The snapshot folder.
 * @returns Repo file paths, or undefined when the folder does not exist.
 */
export function listSnapshot(snapshot: string): string[] | undefined {
  try {
    return _walk(snapshot, "");
  } catch {
    return undefined;
  }
}

function _walk(dir: string, prefix: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(dir)) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(..._walk(`${dir}/${e.name}`, rel));
    else out.push(rel);
  }
  return out;
}

function _writeAtomic(path: string, text: string): void {
  Deno.mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${Deno.pid}.tmp`;
  Deno.writeTextFileSync(tmp, text);
  Deno.renameSync(tmp, path);
}
