/**
 * One file into the cache's `blobs/` folder, the way Python's `huggingface_hub` does it: bytes go to
 * `blobs/<etag>.incomplete`; an interrupted download resumes from there with a range request; an LFS
 * file's sha256 is checked; only a complete, verified file is renamed to `blobs/<etag>`.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { dirname } from "node:path";
import { blobPath, fileSize, type TreeEntry } from "./cache_layout.ts";
import { fetchRepoFile, type RepoFileRef } from "./hub_http.ts";

/** A file to fetch: where it is on the Hub, its tree entry, and the repo's cache folder. */
export interface BlobJob extends RepoFileRef {
  entry: TreeEntry;
  /** The repo's cache folder (`…/models--org--name`). */
  storage: string;
}

/**
 * Downloads one file into `blobs/<etag>` via `<etag>.incomplete`, resuming and verifying.
 *
 * @param job The file, its tree entry and the cache folder.
 * @param onBytes Called with each chunk's size (first with the bytes already there when resuming).
 * @returns How many requests it took.
 * @throws {Error} One line when the download breaks off or is short (the partial file is kept, so the
 *   same call resumes), or when the sha256 does not match (the file is discarded).
 *
 * @example
 * ```ts ignore
 * import { fetchBlob } from "./fetch_blob.ts";
 * import { resolveTree } from "./resolve_tree.ts";
 * const repo = "Qwen/Qwen2.5-0.5B-Instruct", path = "config.json";
 * const { hub, auth, commit, tree, storage } = await resolveTree(repo);
 * await fetchBlob({ hub, repo, type: "model", commit, path, auth, entry: tree[path], storage }, () => {});
 * ```
 */
export async function fetchBlob(job: BlobJob, onBytes: (n: number) => void): Promise<number> {
  const expected = fileSize(job.entry);
  const blob = blobPath(job.storage, job.entry), incomplete = `${blob}.incomplete`;
  Deno.mkdirSync(dirname(blob), { recursive: true });
  let have = 0;
  try {
    have = Deno.statSync(incomplete).size;
  } catch {
    // fresh download
  }
  if (have > expected) {
    Deno.removeSync(incomplete);
    have = 0;
  }
  const { res, requests } = await fetchRepoFile(job, have > 0 ? { range: `bytes=${have}-` } : {});
  if (have > 0 && res.status !== 206) have = 0; // the server ignored the range: start over
  const file = await Deno.open(incomplete, {
    create: true,
    write: true,
    append: have > 0,
    truncate: have === 0,
  });
  let got = have;
  try {
    onBytes(have);
    for await (const chunk of res.body!) {
      await file.write(chunk);
      got += chunk.length;
      onBytes(chunk.length);
    }
  } catch (e) {
    throw new Error(
      `${job.repo}: download of ${job.path} broke off after ${got} of ${expected} bytes ` +
        `(${(e as Error).message}). Run the same call again to resume.`,
    );
  } finally {
    file.close();
  }
  if (got !== expected) {
    throw new Error(
      `${job.repo}: ${job.path} is truncated: got ${got} of ${expected} bytes. ` +
        "The partial file is kept; run the same call again to resume.",
    );
  }
  if (job.entry.lfs_sha256) await _checkSha256(incomplete, job.entry.lfs_sha256, job);
  Deno.renameSync(incomplete, blob);
  return requests;
}

/** Throws (and discards the file) when its sha256 is not the expected one. */
async function _checkSha256(file: string, expected: string, job: BlobJob): Promise<void> {
  const hash = createHash("sha256");
  const f = await Deno.open(file); // reading `readable` to its end closes it
  for await (const chunk of f.readable) hash.update(chunk);
  const actual = hash.digest("hex");
  if (actual === expected) return;
  Deno.removeSync(file);
  throw new Error(
    `${job.repo}: checksum mismatch for ${job.path} (sha256 ${actual.slice(0, 12)}…, expected ` +
      `${expected.slice(0, 12)}…): the file was discarded. Run again; if it repeats, the mirror is corrupt.`,
  );
}
