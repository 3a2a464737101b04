/**
 * Requests to the Hub, each failure turned into one line that says what failed, for which repo, and
 * what to do next: the JSON API (`/api/...`) and repo files (`/{repo}/resolve/{commit}/{path}`).
 *
 * @module
 */
import type { RepoType } from "./repo_id.ts";

/** A repo on a Hub, and the headers that may read it. */
export interface HubRepo {
  /** The Hub's address, without a trailing slash. */
  hub: string;
  repo: string;
  type: RepoType;
  /** `{ authorization: "Bearer …" }`, or `{}` without a token. */
  auth: Record<string, string>;
}

/** Where a repo file is: enough to build its `resolve` URL. */
export interface RepoFileRef extends HubRepo {
  commit: string;
  path: string;
}

/**
 * Turns a Hub error status into one line that says what to do.
 *
 * @param res The failed response (its `x-error-code` header tells a missing revision or file apart).
 * @param what What was asked for, e.g. `revision v2` or a file path.
 * @param repo The repo.
 * @returns The error to throw.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubError } from "./hub_http.ts";
 * const gated = hubError(new Response(null, { status: 401 }), "config.json", { repo: "org/m", type: "model" });
 * assert.match(gated.message, /^org\/m: access denied \(HTTP 401\).*set HF_TOKEN/);
 * ```
 */
export function hubError(res: Response, what: string, repo: Pick<HubRepo, "repo" | "type">): Error {
  const code = res.headers.get("x-error-code") ?? "";
  const { repo: id, type } = repo;
  if (res.status === 401 || res.status === 403) {
    return new Error(
      `${id}: access denied (HTTP ${res.status}) — the repo is gated or private. Accept its terms on the Hub, then ` +
        "set HF_TOKEN (or run `hf auth login`) with a token that can read it.",
    );
  }
  if (res.status === 404) {
    if (code === "RevisionNotFound") {
      return new Error(`${id}: revision not found (${what}). Check the branch, tag or commit.`);
    }
    if (code === "EntryNotFound") {
      return new Error(`${id}: file not found: ${what}. Check the file name in the repo.`);
    }
    const other = type === "model" ? "dataset" : "model";
    return new Error(
      `${id}: ${type} repository not found (HTTP 404). Check the id, and whether it is a ${other}.`,
    );
  }
  return new Error(`${id}: the Hub answered HTTP ${res.status} for ${what}. Try again later.`);
}

/**
 * GETs a Hub API URL with the repo's token (one request).
 *
 * @param url The full URL, e.g. `${hub}/api/models/org/m/revision/main`.
 * @param what What is asked for, for the error message.
 * @param repo The repo, its Hub and auth headers.
 * @returns The successful response (read its body).
 * @throws {Error} One line when the Hub cannot be reached or answers with an error.
 *
 * @example
 * ```ts ignore
 * import { fetchHubApi } from "./hub_http.ts";
 * const hub = { hub: "https://huggingface.co", repo: "Qwen/Qwen2.5-0.5B-Instruct", type: "model" as const, auth: {} };
 * const info = await (await fetchHubApi(`${hub.hub}/api/models/${hub.repo}/revision/main`, "revision main", hub)).json();
 * ```
 */
export async function fetchHubApi(url: string, what: string, repo: HubRepo): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { headers: repo.auth });
  } catch (e) {
    throw new Error(
      `${repo.repo}: cannot reach the Hub at ${repo.hub} (${(e as Error).message}). ` +
        "Check the connection, or set HF_HUB_OFFLINE=1 to use the cache.",
    );
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw hubError(res, what, repo);
  }
  return res;
}

/**
 * GETs a repo file through `/resolve/`, following redirects by hand so the token goes only to the
 * Hub's own host, never to a CDN.
 *
 * @param ref The file.
 * @param headers Extra headers (e.g. `range`).
 * @returns The successful response and how many requests it took.
 * @throws {Error} One line for HTTP errors (401, 404 …) or more than five redirects.
 *
 * @example The first 8 bytes of a safetensors file: its header's length
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { fetchRepoFile, resolveTree } from "./mod.ts";
 * const repo = "Qwen/Qwen2.5-0.5B-Instruct";
 * const { hub, auth, commit } = await resolveTree(repo);
 * const ref = { hub, repo, type: "model" as const, commit, path: "model.safetensors", auth };
 * const { res } = await fetchRepoFile(ref, { range: "bytes=0-7" });
 * assert.equal((await res.arrayBuffer()).byteLength, 8);
 * ```
 */
export async function fetchRepoFile(
  ref: RepoFileRef,
  headers: Record<string, string> = {},
): Promise<{ res: Response; requests: number }> {
  const prefix = ref.type === "dataset" ? "datasets/" : "";
  const encoded = ref.path.split("/").map(encodeURIComponent).join("/");
  let url = `${ref.hub}/${prefix}${ref.repo}/resolve/${ref.commit}/${encoded}`;
  let requests = 0;
  for (let hop = 0; hop < 5; hop++) {
    const sameHost = new URL(url).host === new URL(ref.hub).host;
    requests++;
    const res = await fetch(url, {
      headers: { "accept-encoding": "identity", ...headers, ...(sameHost ? ref.auth : {}) },
      redirect: "manual",
    });
    if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
      await res.body?.cancel();
      url = new URL(res.headers.get("location")!, url).href;
      continue;
    }
    if (!res.ok) {
      await res.body?.cancel();
      throw hubError(res, ref.path, ref);
    }
    return { res, requests };
  }
  throw new Error(`${ref.repo}: too many redirects for ${ref.path}.`);
}
