/**
 * Which repo files a download takes: `allowPatterns` / `ignorePatterns` globs, matched as Python's
 * `huggingface_hub` matches them (`fnmatch`, so `*` also crosses `/`).
 *
 * @module
 */

/** The file filters of a download. */
export interface FilePatterns {
  /** Only files matching one of these globs (e.g. `["*.safetensors", "*.json"]`); all when absent or empty. */
  allowPatterns?: string[];
  /** Skip files matching any of these globs. */
  ignorePatterns?: string[];
}

/**
 * Python's `fnmatch` for repo paths: `*` and `?` also match `/`; `[abc]` and `[!abc]` are character
 * sets; a pattern ending in `/` means everything under that folder.
 *
 * @param path A repo file path.
 * @param pattern A glob.
 * @returns Whether it matches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchesPattern } from "./patterns.ts";
 * assert.equal(matchesPattern("onnx/model.onnx", "*.onnx"), true); // `*` crosses folders
 * assert.equal(matchesPattern("a/b.txt", "a/"), true); // everything under a/
 * assert.equal(matchesPattern("model.bin", "*.safetensors"), false);
 * assert.equal(matchesPattern("model-00002.bin", "model-0000[!1].bin"), true);
 * ```
 */
export function matchesPattern(path: string, pattern: string): boolean {
  const p = pattern.endsWith("/") ? `${pattern}*` : pattern;
  let re = "^";
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "*") re += ".*";
    else if (c === "?") re += ".";
    else if (c === "[") {
      const end = p.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        const body = p.slice(i + 1, end);
        re += `[${body.startsWith("!") ? "^" + body.slice(1) : body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(re + "$").test(path);
}

/**
 * The files a download takes: those matching an allow pattern (all, when there are none) and no
 * ignore pattern, in the order given.
 *
 * @param files Repo file paths.
 * @param patterns The allow and ignore globs.
 * @returns The kept paths.
 *
 * @example Weights and configs, but not the ONNX export
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectFiles } from "./patterns.ts";
 * const files = ["config.json", "model.safetensors", "onnx/model.onnx", "onnx/config.json"];
 * assert.deepEqual(
 *   selectFiles(files, { allowPatterns: ["*.json", "*.safetensors"], ignorePatterns: ["onnx/"] }),
 *   ["config.json", "model.safetensors"],
 * );
 * assert.deepEqual(selectFiles(files, {}), files);
 * ```
 */
export function selectFiles(files: string[], patterns: FilePatterns): string[] {
  const { allowPatterns: allow, ignorePatterns: ignore } = patterns;
  return files.filter((f) =>
    (!allow?.length || allow.some((p) => matchesPattern(f, p))) && !ignore?.some((p) => matchesPattern(f, p))
  );
}
