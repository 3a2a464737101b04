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
 * import { exists } from "./fs.ts";
 * console.log(exists("/")); // true
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
