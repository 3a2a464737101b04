/**
 * Expanding command-line paths to notebook files.
 *
 * @module
 */

/**
 * Notebook files named by `paths`: files as given, folders searched recursively (notebooks/ holds one
 * folder per module), hidden folders skipped, each folder's files sorted.
 *
 * @param paths Files and folders.
 * @returns `.ipynb` paths.
 * @throws {Error} When no path is given, a path does not exist, or nothing is found.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { findNotebooks } from "./find_notebooks.ts";
 * const lessons = findNotebooks([`${projectRoot()}/notebooks/00-first-time-beginner`]);
 * assert.deepEqual(lessons, [`${projectRoot()}/notebooks/00-first-time-beginner/00-first-fine-tune.ipynb`]);
 * assert.throws(() => findNotebooks([]), /No notebook given/);
 * ```
 */
export function findNotebooks(paths: string[]): string[] {
  if (!paths.length) throw new Error("No notebook given: name one or more .ipynb files or folders.");
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.name.startsWith(".")) continue;
      if (e.isDirectory) walk(`${dir}/${e.name}`);
      else if (e.isFile && e.name.endsWith(".ipynb")) out.push(`${dir}/${e.name}`);
    }
  };
  for (const p of paths) {
    let stat: Deno.FileInfo;
    try {
      stat = Deno.statSync(p);
    } catch {
      throw new Error(`${p}: no such notebook or folder. Check the path (it is relative to ${Deno.cwd()}).`);
    }
    if (stat.isDirectory) walk(p.replace(/\/$/, ""));
    else out.push(p);
  }
  if (!out.length) {
    throw new Error(
      `${paths.join(", ")}: no .ipynb notebook there; name a notebook or a folder holding some.`,
    );
  }
  return out;
}
