/**
 * Where the Hugging Face cache, endpoint and token are, resolved exactly as Python's
 * `huggingface_hub` resolves them, so both sides share one cache.
 *
 * @module
 */

/** Environment variables to read (defaults to the process environment). */
export type Env = Record<string, string | undefined>;

function _env(env?: Env): Env {
  return env ?? Deno.env.toObject();
}

function _expandHome(path: string, env: Env): string {
  return path.startsWith("~") ? `${env.HOME ?? ""}${path.slice(1)}` : path;
}

/**
 * `HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
 *
 * @param env The environment.
 * @returns The folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hfHome } from "./hub_env.ts";
 * assert.equal(hfHome({ HOME: "/home/ada" }), "/home/ada/.cache/huggingface");
 * assert.equal(hfHome({ HOME: "/home/ada", HF_HOME: "~/hf" }), "/home/ada/hf");
 * ```
 */
export function hfHome(env?: Env): string {
  const e = _env(env);
  return _expandHome(e.HF_HOME ?? `${e.XDG_CACHE_HOME ?? "~/.cache"}/huggingface`, e);
}

/**
 * The hub cache: `HF_HUB_CACHE`, else the legacy `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`.
 *
 * @param env The environment.
 * @returns The folder holding `models--org--name/` folders.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubCacheDir } from "./hub_env.ts";
 * assert.equal(hubCacheDir({ HOME: "/h", HF_HOME: "/data/hf" }), "/data/hf/hub");
 * assert.equal(hubCacheDir({ HOME: "/h", HF_HUB_CACHE: "/fast/hub" }), "/fast/hub");
 * ```
 */
export function hubCacheDir(env?: Env): string {
  const e = _env(env);
  return _expandHome(e.HF_HUB_CACHE ?? e.HUGGINGFACE_HUB_CACHE ?? `${hfHome(e)}/hub`, e);
}

/**
 * The Hub's address: `HF_ENDPOINT` or `https://huggingface.co`, without a trailing slash.
 *
 * @param env The environment.
 * @returns The endpoint URL.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubEndpoint } from "./hub_env.ts";
 * assert.equal(hubEndpoint({ HF_ENDPOINT: "http://127.0.0.1:9000/" }), "http://127.0.0.1:9000");
 * assert.equal(hubEndpoint({}), "https://huggingface.co");
 * ```
 */
export function hubEndpoint(env?: Env): string {
  return (_env(env).HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
}

/**
 * The access token: `HF_TOKEN`, else the file Python's `hf auth login` writes (`HF_TOKEN_PATH`,
 * default `$HF_HOME/token`). Never print it.
 *
 * @param env The environment.
 * @returns The token, or undefined.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubToken } from "./hub_env.ts";
 * assert.equal(hubToken({ HF_TOKEN: " hf_x\n", HOME: "/nowhere" }), "hf_x");
 * assert.equal(hubToken({ HOME: "/nowhere" }), undefined); // no HF_TOKEN, no token file
 * ```
 */
export function hubToken(env?: Env): string | undefined {
  const e = _env(env);
  if (e.HF_TOKEN?.trim()) return e.HF_TOKEN.trim();
  try {
    return Deno.readTextFileSync(_expandHome(e.HF_TOKEN_PATH ?? `${hfHome(e)}/token`, e)).trim() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether offline mode is on (`HF_HUB_OFFLINE` or `TRANSFORMERS_OFFLINE` set to 1/true/yes/on).
 *
 * @param env The environment.
 * @returns True when no request may be made.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubOffline } from "./hub_env.ts";
 * assert.equal(hubOffline({ HF_HUB_OFFLINE: "1" }), true);
 * assert.equal(hubOffline({ TRANSFORMERS_OFFLINE: "yes" }), true);
 * assert.equal(hubOffline({ HF_HUB_OFFLINE: "0" }), false);
 * ```
 */
export function hubOffline(env?: Env): boolean {
  const e = _env(env);
  const v = (e.HF_HUB_OFFLINE || e.TRANSFORMERS_OFFLINE || "").toLowerCase();
  return ["1", "true", "yes", "on"].includes(v);
}
