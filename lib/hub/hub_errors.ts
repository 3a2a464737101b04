/**
 * A Hub error status as one line that names the repo and says what to do, telling apart what Python's
 * `huggingface_hub` tells apart (`utils/_http.py`, `hf_raise_for_status`): a refused token (401,
 * `Invalid credentials in Authorization header`, on any repo), a gated repo without a token (401
 * `GatedRepo`) or with a token whose account has no access yet (403 `GatedRepo`), a private or missing
 * repo (401 without a token, 404 with one), a missing revision or file (404 with `X-Error-Code`).
 *
 * @module
 */
import type { RepoType } from "./repo_id.ts";

/** The repo an error is about, and how it was asked for. */
export interface ErrorRepo {
  repo: string;
  type: RepoType;
  /** The Hub's address (for the repo's page in messages; default https://huggingface.co). */
  hub?: string;
  /** The request's auth headers: whether a token was sent changes the advice. */
  auth?: Record<string, string>;
}

/**
 * Turns a Hub error status into one line that says what to do. The token itself is never included.
 *
 * @param res The failed response (its `X-Error-Code` and `X-Error-Message` headers).
 * @param what What was asked for, e.g. `revision v2` or a file path.
 * @param repo The repo, its Hub, and whether a token was sent.
 * @returns The error to throw.
 *
 * @example A gated repo, asked for without a token and with one that has no access yet
 * ```ts
 * import assert from "node:assert/strict";
 * import { hubError } from "./hub_errors.ts";
 * const gated = (status: number) => new Response(null, { status, headers: { "x-error-code": "GatedRepo" } });
 * const repo = { repo: "org/m", type: "model" as const, hub: "https://huggingface.co" };
 * assert.match(
 *   hubError(gated(401), "config.json", repo).message,
 *   /^org\/m: gated repo, and no token was sent \(HTTP 401\)\. Accept its terms at https:\/\/huggingface\.co\/org\/m/,
 * );
 * const withToken = { ...repo, auth: { authorization: "Bearer hf_x" } };
 * assert.match(hubError(gated(403), "config.json", withToken).message, /no access to it yet \(HTTP 403\)/);
 * ```
 */
export function hubError(res: Response, what: string, repo: ErrorRepo): HubHttpError {
  return new HubHttpError(_message(res, what, repo), res.status);
}

/**
 * An error answer of the Hub (401, 403, 404 …): the Hub was reached and said no.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HubHttpError } from "./hub_errors.ts";
 * assert.equal(new HubHttpError("org/m: revision not found", 404).status, 404);
 * ```
 */
export class HubHttpError extends Error {
  /**
   * @param message The one line to show.
   * @param status The HTTP status.
   */
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

function _message(res: Response, what: string, repo: ErrorRepo): string {
  const code = res.headers.get("x-error-code") ?? "";
  const said = (res.headers.get("x-error-message") ?? "").replace(/\s+/g, " ").trim();
  const { repo: id, type } = repo;
  const page = `${repo.hub ?? "https://huggingface.co"}/${type === "dataset" ? "datasets/" : ""}${id}`;
  const tokenSent = !!repo.auth?.authorization;
  const login = "set HF_TOKEN (or run `hf auth login`)";
  if (res.status === 401 && /invalid (credentials|user token|username or password)/i.test(said)) {
    return (
      `${id}: the Hub refused the token (HTTP 401: invalid credentials). Check HF_TOKEN, or run ` +
      "`hf auth login` again with a valid token (or unset HF_TOKEN for public repos)."
    );
  }
  if (code === "GatedRepo" && res.status === 403) {
    return (
      `${id}: gated repo, and the token's account has no access to it yet (HTTP 403). Request access at ` +
      `${page} and wait for approval, or use a token of an account that has access.`
    );
  }
  if (code === "GatedRepo") {
    return (
      `${id}: gated repo, and ${tokenSent ? "the token cannot read it" : "no token was sent"} (HTTP ` +
      `${res.status}). Accept its terms at ${page}, then ${login} with a token of that account.`
    );
  }
  if (res.status === 401) {
    return (
      tokenSent
        ? `${id}: access denied (HTTP 401). The token cannot read this ${type}; check HF_TOKEN.`
        : `${id}: ${type} repository not found, or private or gated (HTTP 401, no token sent). Check the id, ` +
          `and whether it is a ${
            type === "model" ? "dataset" : "model"
          }; for a private or gated repo, ${login}.`
    );
  }
  if (res.status === 403) {
    return (
      `${id}: access forbidden (HTTP 403${said ? `: ${said}` : ""}). Make sure the token may read this ` +
      `${type} (a fine-grained token needs read access to it).`
    );
  }
  if (res.status === 404) {
    if (code === "RevisionNotFound") {
      return (`${id}: revision not found (${what}). Check the branch, tag or commit.`);
    }
    if (code === "EntryNotFound") {
      return (`${id}: file not found: ${what}. Check the file name in the repo.`);
    }
    const other = type === "model" ? "dataset" : "model";
    return (
      `${id}: ${type} repository not found (HTTP 404). Check the id, and whether it is a ${other}.`
    );
  }
  return (`${id}: the Hub answered HTTP ${res.status} for ${what}. Try again later.`);
}
