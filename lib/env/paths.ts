/**
 * Where ince keeps things: the project root, the cache outside the checkout (Python environments,
 * the pinned Deno), and the links set-up makes inside the checkout (`.tools/`).
 *
 * @module
 */

/** Environment variables that steer the paths, for tests and unusual machines. */
export interface PathsOptions {
  /** Environment to read (defaults to the process environment). */
  env?: Record<string, string | undefined>;
}

function _env(options: PathsOptions): Record<string, string | undefined> {
  return options.env ?? Deno.env.toObject();
}

/**
 * The project's root folder (the one holding `deno.json`), found from this module's location, so it
 * works from any cwd, in `deno run`, `deno test` and inside the kernel.
 *
 * @returns The absolute path of the project root, without a trailing slash.
 *
 * @example Find the README
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "./paths.ts";
 * const readme = `${projectRoot()}/README.md`;
 * assert.ok(Deno.statSync(readme).isFile);
 * ```
 */
export function projectRoot(): string {
  return decodeURIComponent(new URL("../..", import.meta.url).pathname).replace(/\/$/, "");
}

/**
 * The cache folder shared by every checkout on this machine: `$INCE_CACHE`, else
 * `$XDG_CACHE_HOME/ince`, else `~/.cache/ince`. Python environments live here, keyed by their pins,
 * so a second checkout (or CI on the same machine) never reinstalls them.
 *
 * @param options Where to read the environment from.
 * @returns The absolute cache folder path.
 * @throws {Error} When neither `INCE_CACHE`, `XDG_CACHE_HOME` nor `HOME` is set.
 *
 * @example Default location
 * ```ts
 * import assert from "node:assert/strict";
 * import { cacheDir } from "./paths.ts";
 * assert.equal(cacheDir({ env: { HOME: "/home/ada" } }), "/home/ada/.cache/ince");
 * assert.equal(cacheDir({ env: { INCE_CACHE: "/data/ince", HOME: "/home/ada" } }), "/data/ince");
 * ```
 */
export function cacheDir(options: PathsOptions = {}): string {
  const env = _env(options);
  if (env.INCE_CACHE) return env.INCE_CACHE;
  if (env.XDG_CACHE_HOME) return `${env.XDG_CACHE_HOME}/ince`;
  if (env.HOME) return `${env.HOME}/.cache/ince`;
  throw new Error("Cannot place the ince cache: set INCE_CACHE (or HOME) to a writable folder.");
}

/**
 * The Python interpreter of the trainer/Jupyter environment: `$INCE_PYTHON` (set by our kernel),
 * else the one `deno task setup` linked at `.tools/venv/bin/python`.
 *
 * @param options Where to read the environment from.
 * @returns The absolute path of the Python executable.
 * @throws {Error} When no environment has been set up yet, saying which command sets it up.
 *
 * @example Spawn the project's Python
 * ```ts ignore
 * import { pythonPath } from "./paths.ts";
 * await new Deno.Command(pythonPath(), { args: ["--version"] }).output();
 * ```
 */
export function pythonPath(options: PathsOptions = {}): string {
  const env = _env(options);
  const python = env.INCE_PYTHON || `${projectRoot()}/.tools/venv/bin/python`;
  try {
    Deno.statSync(python);
  } catch {
    const from = env.INCE_PYTHON ? "INCE_PYTHON" : "the set-up link";
    throw new Error(
      `Python environment not found at ${python} (from ${from}). ` +
        "Run `npx -y deno@2.9.6 task setup` in the ince folder to create it.",
    );
  }
  return python;
}
