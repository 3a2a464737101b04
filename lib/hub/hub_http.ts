/**
 * Requests to the Hub: the JSON API (`/api/...`) and repo files (`/{repo}/resolve/{commit}/{path}`).
 * Each request is retried with backoff on 429, 5xx and network errors (`retry.ts`), and each failure
 * becomes one line that says what failed, for which repo, and what to do next (`hub_errors.ts`).
 *
 * @module
 */
import { hubError } from "./hub_errors.ts";
import type { RepoType } from "./repo_id.ts";
import { fetchWithRetries, type RetryOptions } from "./retry.ts";

/** A repo on a Hub, and the headers that may read it. */
export interface HubRepo {
  /** The Hub's address, without a trailing slash. */
  hub: string;
  repo: string;
  type: RepoType;
  /** `{ authorization: "Bearer …" }`, or `{}` without a token. */
  auth: Record<string, string>;
  /** How failed requests are retried (default: as huggingface_hub, 5 retries from 1 s). */
  retry?: RetryOptions;
}

/** Where a repo file is: enough to build its `resolve` URL. */
export interface RepoFileRef extends HubRepo {
  commit: string;
  path: string;
}

/**
 * GETs a Hub API URL with the repo's token, retrying on 429, 5xx and network errors.
 *
 * @param url The full URL, e.g. `${hub}/api/models/org/m/revision/main`.
 * @param what What is asked for, for the error message.
 * @param repo The repo, its Hub and auth headers.
 * @returns The successful response (read its body).
 * @throws {Error} One line when the Hub cannot be reached or answers with an error (after the retries).
 *
 * @example
 * ```ts ignore
 * import { fetchHubApi } from "./hub_http.ts";
 * const hub = { hub: "https://huggingface.co", repo: "Qwen/Qwen2.5-0.5B-Instruct", type: "model" as const, auth: {} };
 * const info = await (await fetchHubApi(`${hub.hub}/api/models/${hub.repo}/revision/main`, "revision main", hub)).json();
 * ```
 */
export async function fetchHubApi(url: string, what: string, repo: HubRepo): Promise<Response> {
  const res = await fetchWithRetries(url, { headers: repo.auth }, {
    repo: repo.repo,
    what,
    retry: repo.retry,
  });
  if (!res.ok) {
    await res.body?.cancel();
    throw hubError(res, what, repo);
  }
  return res;
}

/**
 * GETs a repo file through `/resolve/`, following redirects by hand so the token goes only to the
 * Hub's own host, never to a CDN; each hop is retried on 429, 5xx and network errors.
 *
 * @param ref The file.
 * @param headers Extra headers (e.g. `range`).
 * @returns The successful response and how many requests it took.
 * @throws {Error} One line for HTTP errors (401, 404 …, or 5xx after the retries) or more than five redirects.
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
    const res = await fetchWithRetries(url, {
      headers: { "accept-encoding": "identity", ...headers, ...(sameHost ? ref.auth : {}) },
      redirect: "manual",
    }, { repo: ref.repo, what: ref.path, retry: ref.retry });
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
