/**
 * One file into the cache's `blobs/` folder, as Python's `huggingface_hub` does it and a little safer:
 *
 * - under huggingface_hub's lock file (`blob_lock.ts`), so ince and Python never fetch one blob at once,
 *   and a blob that appeared while waiting is not fetched again;
 * - bytes go to `blobs/<etag>.incomplete`: a transfer that breaks off is resumed with a range request,
 *   up to 5 times without progress, as huggingface_hub's `http_get` does, and a later call resumes it
 *   too; a server that ignores `Range` (answers 200) is read from the start; a partial file longer than
 *   the blob is discarded;
 * - the file is checked (`blob_checksum.ts`: sha256 for LFS files, the git blob id for the others) and
 *   only then renamed to `blobs/<etag>`. A mismatch after resuming means the kept bytes were bad: the
 *   file is fetched once more from the start; a mismatch on a fresh download fails.
 *
 * @module
 */
import { dirname } from "node:path";
import { exists } from "../util/fs.ts";
import { blobChecksum } from "./blob_checksum.ts";
import { blobLockPath, withBlobLock } from "./blob_lock.ts";
import { blobPath, fileSize, type TreeEntry } from "./cache_layout.ts";
import { fetchRepoFile, type RepoFileRef } from "./hub_http.ts";
import { backoffMs, formatWait } from "./retry.ts";

/** A file to fetch: where it is on the Hub, its tree entry, and the repo's cache folder. */
export interface BlobJob extends RepoFileRef {
  entry: TreeEntry;
  /** The repo's cache folder (`…/models--org--name`). */
  storage: string;
}

/**
 * Downloads one file into `blobs/<etag>` via `<etag>.incomplete`, under the blob's lock, resuming and
 * verifying.
 *
 * @param job The file, its tree entry and the cache folder (and `retry`, whose `onNotice` hears
 *   about waits and resumes).
 * @param onBytes Called with each change of the bytes on disk (negative when a partial file is dropped).
 * @returns How many requests it took (0 when another process fetched the blob meanwhile).
 * @throws {Error} One line when the transfer keeps breaking off (the partial file is kept, so the
 *   same call resumes), or when the checksum does not match on a fresh download (the file is discarded).
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
  const blob = blobPath(job.storage, job.entry);
  Deno.mkdirSync(dirname(blob), { recursive: true });
  const notice = job.retry?.onNotice ?? ((line: string) => console.warn(line));
  return await withBlobLock(blobLockPath(job.storage, job.entry), async () => {
    if (!exists(blob)) return await _download(job, blob, onBytes, notice);
    onBytes(fileSize(job.entry)); // fetched by another process while this one waited
    return 0;
  }, (line) => notice(`${job.repo}: ${job.path}: ${line}`));
}

/** The download itself, with the lock held. */
async function _download(
  job: BlobJob,
  blob: string,
  onBytes: (n: number) => void,
  notice: (line: string) => void,
): Promise<number> {
  const expected = fileSize(job.entry), incomplete = `${blob}.incomplete`;
  const retries = job.retry?.retries ?? 5;
  let counted = 0, requests = 0, failures = 0, restarted = false;
  const report = (onDisk: number) => {
    onBytes(onDisk - counted);
    counted = onDisk;
  };
  for (;;) {
    const have = _partialSize(incomplete, expected);
    report(have);
    // Whether the bytes on disk all came from one request of this call, from byte 0.
    let clean = false;
    if (have < expected || !exists(incomplete)) {
      const got = await _fetchFrom(job, incomplete, have, expected, report);
      requests += got.requests;
      clean = got.fromZero;
      if (got.error) {
        failures = got.size > have ? 1 : failures + 1; // new bytes on disk restore the budget
        if (failures > retries) {
          throw new Error(
            `${job.repo}: download of ${job.path} broke off after ${got.size} of ${expected} bytes ` +
              `(${got.error}; ${retries} retries without progress). The partial file is kept: run the same ` +
              "call again to resume.",
          );
        }
        const wait = backoffMs(failures, job.retry);
        notice(
          `${job.repo}: ${job.path} broke off at ${got.size} of ${expected} bytes (${got.error}); ` +
            `resuming in ${formatWait(wait)} (retry ${failures}/${retries}).`,
        );
        await new Promise((r) => setTimeout(r, wait));
        continue;
      }
    }
    const check = await blobChecksum(incomplete, job.entry);
    if (check.actual === check.expected) {
      Deno.renameSync(incomplete, blob);
      return requests;
    }
    Deno.removeSync(incomplete);
    const what = `checksum mismatch for ${job.path} (${check.algorithm} ${check.actual.slice(0, 12)}…, ` +
      `expected ${check.expected.slice(0, 12)}…)`;
    if (clean || restarted) {
      throw new Error(
        `${job.repo}: ${what}: the file was discarded. Run again; if it repeats, the mirror is corrupt.`,
      );
    }
    notice(`${job.repo}: ${what} after resuming a partial file; downloading it again from the start.`);
    restarted = true;
  }
}

/** The size of a partial download; one longer than the file is removed (it cannot be a prefix). */
function _partialSize(incomplete: string, expected: number): number {
  try {
    const size = Deno.statSync(incomplete).size;
    if (size <= expected) return size;
    Deno.removeSync(incomplete);
  } catch {
    // no partial download
  }
  return 0;
}

/** One request for the bytes from `have` on, appended to the partial file. */
async function _fetchFrom(
  job: BlobJob,
  incomplete: string,
  have: number,
  expected: number,
  report: (onDisk: number) => void,
): Promise<{ requests: number; fromZero: boolean; size: number; error?: string }> {
  const { res, requests } = await fetchRepoFile(job, have > 0 ? { range: `bytes=${have}-` } : {});
  const fromZero = have === 0 || res.status !== 206; // 200 to a range request: the server ignored it
  const file = await Deno.open(incomplete, {
    create: true,
    write: true,
    append: !fromZero,
    truncate: fromZero,
  });
  let size = fromZero ? 0 : have, error: string | undefined, overlong = false;
  report(size);
  try {
    for await (const chunk of res.body!) {
      const part = chunk.subarray(0, Math.max(0, expected - size));
      for (let off = 0; off < part.length;) off += await file.write(part.subarray(off));
      size += part.length;
      report(size);
      if ((overlong = part.length < chunk.length)) break; // leaving the loop cancels the body
    }
  } catch (e) {
    error = (e as Error).message.replace(/\s+/g, " ").trim();
  } finally {
    file.close();
  }
  if (overlong) {
    Deno.removeSync(incomplete);
    throw new Error(
      `${job.repo}: ${job.path}: the server sent more than the ${expected} bytes the file list gives; the ` +
        "partial file was discarded. Run again; if it repeats, the repo's file list and its files disagree.",
    );
  }
  if (!error && size < expected) error = "the body ended early";
  return { requests, fromZero, size, ...(error ? { error } : {}) };
}
