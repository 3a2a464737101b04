/**
 * Retries with exponential backoff, as Python's `huggingface_hub` does (`utils/_http.py`,
 * `http_backoff`): HTTP 408, 429, 500, 502, 503 and 504 and network errors are tried again up to 5
 * times, waiting 1, 2, 4, 8 and 8 s. When the Hub says how long to wait (`Retry-After: N`, or on a 429
 * `RateLimit: "api";r=0;t=N`), the wait is N s plus one base delay (huggingface_hub adds 1 s). A wait
 * longer than `maxServerWaitMs` is not sat through: the request fails at once, saying when to come back.
 *
 * @module
 */

/** How requests to the Hub are retried. The defaults are huggingface_hub's. */
export interface RetryOptions {
  /** Retries after the first attempt (default 5). */
  retries?: number;
  /** The first wait, doubled after each retry (default 1000 ms). */
  baseDelayMs?: number;
  /** The longest wait between two attempts (default 8000 ms). */
  maxDelayMs?: number;
  /** The longest wait asked for by the Hub (`Retry-After`) that is honoured (default 60 000 ms). */
  maxServerWaitMs?: number;
  /** Told about each retry and wait, one line each (default `console.warn`). */
  onNotice?: (line: string) => void;
}

/** The statuses worth another try: timeout, rate limit, server errors. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504]);

/**
 * How long the Hub asks a client to wait: `RateLimit: "…";r=0;t=N` on a 429, else `Retry-After: N`
 * (seconds; an HTTP date is ignored, as huggingface_hub ignores it).
 *
 * @param headers The response's headers.
 * @returns Milliseconds, or undefined when the Hub said nothing.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serverWaitMs } from "./retry.ts";
 * assert.equal(serverWaitMs(new Headers({ "retry-after": "7" })), 7000);
 * assert.equal(serverWaitMs(new Headers({ ratelimit: '"api";r=0;t=55' })), 55_000);
 * assert.equal(serverWaitMs(new Headers({ ratelimit: '"api";r=3;t=55' })), undefined);
 * ```
 */
export function serverWaitMs(headers: Headers): number | undefined {
  const limit = headers.get("ratelimit")?.match(/"\w+"\s*;\s*r\s*=\s*(\d+)\s*;\s*t\s*=\s*(\d+)/);
  if (limit && Number(limit[1]) === 0) return Number(limit[2]) * 1000;
  const after = headers.get("retry-after")?.trim();
  return after && /^\d+$/.test(after) ? Number(after) * 1000 : undefined;
}

/**
 * The wait before retry `n` (1-based): `baseDelayMs · 2^(n-1)`, at most `maxDelayMs`.
 *
 * @param n The retry about to be made.
 * @param options The retry settings.
 * @returns Milliseconds.
 *
 * @example huggingface_hub's schedule
 * ```ts
 * import assert from "node:assert/strict";
 * import { backoffMs } from "./retry.ts";
 * assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffMs(n)), [1000, 2000, 4000, 8000, 8000]);
 * ```
 */
export function backoffMs(n: number, options: RetryOptions = {}): number {
  const { baseDelayMs = 1000, maxDelayMs = 8000 } = options;
  return Math.min(maxDelayMs, baseDelayMs * 2 ** (n - 1));
}

/**
 * A wait as people read it: `250 ms`, `1.5 s`.
 *
 * @param ms Milliseconds.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatWait } from "./retry.ts";
 * assert.deepEqual([250, 1000, 1500].map(formatWait), ["250 ms", "1 s", "1.5 s"]);
 * ```
 */
export function formatWait(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(ms % 1000 ? 1 : 0)} s`;
}

/**
 * The Hub could not serve a request: unreachable (a network error) or unavailable (429, 5xx), after
 * the retries. Python's `snapshot_download` falls back to the cache on these (ince: `cache_fallback.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HubUnreachableError } from "./retry.ts";
 * const e = new HubUnreachableError("org/m: HTTP 503 for x 6 times. Try again later.", "HTTP 503 for x", 503);
 * assert.equal(e.reason, "HTTP 503 for x");
 * assert.equal(e.status, 503);
 * ```
 */
export class HubUnreachableError extends Error {
  /**
   * @param message The one line to show.
   * @param reason What failed, short: `HTTP 503 for revision main`, `cannot reach host for … (…)`.
   * @param status The last HTTP status; undefined for a network error.
   */
  constructor(message: string, readonly reason: string, readonly status?: number) {
    super(message);
  }
}

/** What {@linkcode fetchWithRetries} is fetching, for its messages. */
export interface RetryTarget {
  /** The repo id that starts each message. */
  repo: string;
  /** What is asked for, e.g. `the file list` or a file path. */
  what: string;
  retry?: RetryOptions;
}

/**
 * `fetch` with huggingface_hub's retries: a network error or a status in {@linkcode RETRY_STATUSES}
 * is tried again after a backoff; any other response (success or not) is returned to the caller.
 *
 * @param url The URL.
 * @param init The request (method, headers, redirect).
 * @param target The repo and what is fetched (for messages), and the retry settings.
 * @returns The first response that is not worth retrying.
 * @throws {Error} One line when the retries are used up (saying how many and for how long), or at once
 *   when the Hub asks to wait longer than `maxServerWaitMs`.
 *
 * @example The Hub is down: bounded, with a message
 * ```ts
 * import assert from "node:assert/strict";
 * import { fetchWithRetries } from "./retry.ts";
 * const server = Deno.serve({ port: 0, onListen() {} }, () => new Response("busy", { status: 503 }));
 * const lines: string[] = [];
 * const retry = { retries: 2, baseDelayMs: 1, onNotice: (l: string) => lines.push(l) };
 * await assert.rejects(
 *   fetchWithRetries(`http://127.0.0.1:${server.addr.port}/x`, {}, { repo: "org/m", what: "x", retry }),
 *   /^Error: org\/m: the Hub answered HTTP 503 for x 3 times/,
 * );
 * assert.deepEqual(lines, [
 *   "org/m: HTTP 503 for x; retry 1/2 in 1 ms.",
 *   "org/m: HTTP 503 for x; retry 2/2 in 2 ms.",
 * ]);
 * await server.shutdown();
 * ```
 */
export async function fetchWithRetries(
  url: string,
  init: RequestInit,
  target: RetryTarget,
): Promise<Response> {
  const options = target.retry ?? {};
  const { retries = 5, baseDelayMs = 1000, maxServerWaitMs = 60_000 } = options;
  const notice = options.onNotice ?? ((line: string) => console.warn(line));
  const { repo, what } = target;
  let waited = 0;
  for (let n = 0;; n++) {
    let res: Response | undefined, failure: string;
    try {
      res = await fetch(url, init);
      if (!RETRY_STATUSES.has(res.status)) return res;
      await res.body?.cancel();
      failure = `HTTP ${res.status} for ${what}`;
    } catch (e) {
      failure = `cannot reach ${new URL(url).host} for ${what} (${_oneLine((e as Error).message)})`;
    }
    const asked = res && serverWaitMs(res.headers);
    if (asked !== undefined && asked > maxServerWaitMs) {
      throw new HubUnreachableError(
        `${repo}: the Hub is ${
          res!.status === 429 ? "rate-limiting" : "unavailable"
        } (${failure}) and asks to ` +
          `wait ${formatWait(asked)}. Try again after that${
            res!.status === 429 ? " (a token raises the limits: set HF_TOKEN)" : ""
          }.`,
        failure,
        res!.status,
      );
    }
    if (n >= retries) {
      const tries = `${n + 1} time${n ? "s" : ""}${waited ? `, retried for ${formatWait(waited)}` : ""}`;
      throw new HubUnreachableError(
        res
          ? `${repo}: the Hub answered HTTP ${res.status} for ${what} ${tries}. ` +
            (res.status === 429
              ? "It is rate-limiting: wait a few minutes, or set HF_TOKEN."
              : "It may be down.") +
            " Try again later."
          : `${repo}: ${failure}, ${tries}. Check the connection, or set HF_HUB_OFFLINE=1 to use the cache.`,
        failure,
        res?.status,
      );
    }
    const wait = asked !== undefined ? asked + baseDelayMs : backoffMs(n + 1, options);
    notice(`${repo}: ${failure}; retry ${n + 1}/${retries} in ${formatWait(wait)}.`);
    await new Promise((r) => setTimeout(r, wait));
    waited += wait;
  }
}

function _oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
