/**
 * Small file-system helpers shared by the library.
 *
 * @module
 */

/**
 * Whether a path exists (following symlinks: a dangling link does not count).
 *
 * @param path The path.
 * @returns True when `stat` succeeds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exists } from "./fs.ts";
 * assert.equal(exists("/"), true);
 * assert.equal(exists("/no/such/path"), false);
 * ```
 */
export function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * A path made absolute against the current folder (a notebook's cwd is its own folder; the Python
 * process needs the full path).
 *
 * @param path A path.
 * @returns The absolute path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { absPath } from "./fs.ts";
 * assert.equal(absPath("/tmp/x"), "/tmp/x");
 * assert.equal(absPath("runs/a"), `${Deno.cwd()}/runs/a`);
 * ```
 */
export function absPath(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}
