/**
 * The lock Python's `huggingface_hub` takes around each blob download (`file_download.py`), so that
 * ince and Python (or two ince calls) fetching the same file at the same time never both write it: an
 * exclusive `flock(2)` on `<cache>/.locks/<repo folder>/<blob name>.lock`. Python's `filelock`
 * (`FileLock`, via `WeakFileLock`) locks that file with `flock` on Linux and macOS, and
 * `Deno.FsFile.lock()` is the same call, so each side waits for the other. The lock file stays in
 * place (as `filelock` leaves it) so that every waiter locks the same file.
 *
 * @module
 */
import { basename, dirname } from "node:path";
import { blobPath, type TreeEntry } from "./cache_layout.ts";

/**
 * The lock file of a blob: `<cache>/.locks/models--org--name/<sha256 or git blob id>.lock`.
 *
 * @param storage The repo's cache folder (`…/models--org--name`).
 * @param entry The file's tree entry.
 * @returns The lock file's path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { blobLockPath } from "./blob_lock.ts";
 * assert.equal(blobLockPath("/c/models--org--m", { size: 2, blob_id: "b1" }), "/c/.locks/models--org--m/b1.lock");
 * ```
 */
export function blobLockPath(storage: string, entry: TreeEntry): string {
  return `${dirname(storage)}/.locks/${basename(storage)}/${basename(blobPath(storage, entry))}.lock`;
}

/**
 * Runs `fn` holding a blob's lock, waiting (without blocking the event loop) while another process or
 * call holds it. The lock is released when `fn` settles, or by the OS if the process dies.
 *
 * @param lockFile The lock file ({@linkcode blobLockPath}); its folder is created.
 * @param fn What to do under the lock.
 * @param onWait Called once, before waiting, when the lock is taken by someone else.
 * @returns What `fn` returns.
 *
 * @example Two callers of one lock run one after the other; one of them waits
 * ```ts
 * import assert from "node:assert/strict";
 * import { withBlobLock } from "./blob_lock.ts";
 * const lock = `${Deno.makeTempDirSync()}/.locks/models--org--m/b1.lock`;
 * const order: string[] = [], waits: string[] = [];
 * const step = (name: string) =>
 *   withBlobLock(lock, async () => {
 *     order.push(`${name} in`);
 *     await new Promise((r) => setTimeout(r, 20));
 *     order.push(`${name} out`);
 *   }, (line) => waits.push(line));
 * await Promise.all([step("a"), step("b")]);
 * const first = order[0][0], second = first === "a" ? "b" : "a";
 * assert.deepEqual(order, [`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
 * assert.equal(waits.length, 1);
 * ```
 */
export async function withBlobLock<T>(
  lockFile: string,
  fn: () => Promise<T>,
  onWait?: (line: string) => void,
): Promise<T> {
  Deno.mkdirSync(dirname(lockFile), { recursive: true });
  const file = await Deno.open(lockFile, { read: true, write: true, create: true, mode: 0o664 });
  try {
    if (!(await file.tryLock(true))) {
      onWait?.(`waiting for another download of the same file to finish (lock ${lockFile})`);
      await file.lock(true);
    }
    return await fn();
  } finally {
    file.close(); // closing the descriptor releases the flock
  }
}
