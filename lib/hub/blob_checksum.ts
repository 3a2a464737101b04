/**
 * Whether a downloaded file is the one the tree listing names: an LFS file's sha256 (its
 * `lfs.oid`), or, for a small file kept in git itself, its git blob id, the sha1 of
 * `blob <size>\0<bytes>` (its `oid`). Python's `huggingface_hub` checks neither; ince checks both, so
 * a corrupt `config.json` is caught as surely as a corrupt weights file.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { TreeEntry } from "./cache_layout.ts";

/** The outcome of {@linkcode blobChecksum}. */
export interface BlobChecksum {
  /** `sha256` for an LFS file, `git-sha1` for a file stored in git. */
  algorithm: "sha256" | "git-sha1";
  /** What the tree listing says. */
  expected: string;
  /** What the file hashes to. */
  actual: string;
}

/**
 * Hashes a file the way its tree entry identifies it.
 *
 * @param file The file to check.
 * @param entry Its tree entry (`lfs_sha256` for an LFS file, else `blob_id`).
 * @returns The algorithm, the expected and the actual hash.
 *
 * @example Git's blob id of a small file
 * ```ts
 * import assert from "node:assert/strict";
 * import { blobChecksum } from "./blob_checksum.ts";
 * const file = Deno.makeTempFileSync();
 * Deno.writeTextFileSync(file, "hello\n");
 * // `echo hello | git hash-object --stdin`
 * const check = await blobChecksum(file, { size: 6, blob_id: "ce013625030ba8dba906f756967f9e9ca394464a" });
 * assert.equal(check.algorithm, "git-sha1");
 * assert.equal(check.actual, check.expected);
 * ```
 */
export async function blobChecksum(file: string, entry: TreeEntry): Promise<BlobChecksum> {
  const lfs = entry.lfs_sha256 !== undefined;
  const hash = createHash(lfs ? "sha256" : "sha1");
  if (!lfs) hash.update(`blob ${Deno.statSync(file).size}\0`);
  const f = await Deno.open(file); // reading `readable` to its end closes it
  for await (const chunk of f.readable) hash.update(chunk);
  return {
    algorithm: lfs ? "sha256" : "git-sha1",
    expected: lfs ? entry.lfs_sha256! : entry.blob_id,
    actual: hash.digest("hex"),
  };
}
