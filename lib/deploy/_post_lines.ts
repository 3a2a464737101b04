/**
 * What the two chat clients share ({@linkcode chatStream} for OpenAI-compatible servers, {@linkcode ollamaChat}
 * for Ollama): POST a JSON body and read the streamed answer line by line, with one-line errors for a server
 * that is not running and for an HTTP error.
 *
 * @module
 */
import { readLines } from "../util/lines.ts";

/** Options of {@linkcode postLines}. */
export interface PostLinesOptions {
  /** What to tell the user when nothing listens at the URL, e.g. `"start it with startLlamaServer()"`. */
  notRunning: string;
  /** Extra request headers (e.g. `Authorization`). */
  headers?: Record<string, string>;
  /** Aborts the request and the stream. */
  signal?: AbortSignal;
}

/** The first line of a server's error body: `error.message` / `error` of a JSON body, else the text. */
function _errorText(body: string): string {
  let text = body;
  try {
    const json = JSON.parse(body);
    const e = json?.error;
    text = typeof e === "string" ? e : typeof e?.message === "string" ? e.message : body;
  } catch { /* not JSON: the text itself */ }
  return text.replace(/\s+/g, " ").trim().slice(0, 200) || "(empty body)";
}

/**
 * POSTs `body` as JSON to `url` and yields the answer's non-empty lines as they arrive.
 *
 * @param url The endpoint.
 * @param body The request, sent as JSON.
 * @param options What to say when no server runs there; headers; an abort signal.
 * @returns The lines (without the newline; a trailing `\r` removed).
 * @throws {Error} `Cannot connect to <url> (connection refused): no server is running there; <notRunning>.`, or
 * `POST <url> answered <status> <statusText>: <the server's message>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { postLines } from "./_post_lines.ts";
 * const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) =>
 *   new Response(`got ${(await req.json()).n}\r\n\nbye\n`));
 * const lines: string[] = [];
 * for await (const line of postLines(`http://127.0.0.1:${server.addr.port}/x`, { n: 1 }, { notRunning: "start it" })) {
 *   lines.push(line);
 * }
 * await server.shutdown();
 * assert.deepEqual(lines, ["got 1", "bye"]);
 * ```
 */
export async function* postLines(
  url: string,
  body: unknown,
  options: PostLinesOptions,
): AsyncGenerator<string> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...options.headers },
      body: JSON.stringify(body),
      signal: options.signal,
    });
  } catch (e) {
    if (options.signal?.aborted) throw e;
    const error = e as Error & { cause?: unknown };
    const message = `${error.message} ${error.cause instanceof Error ? error.cause.message : ""}`;
    const why = /refused/i.test(message) ? "connection refused" : message.trim().split("\n")[0];
    throw new Error(`Cannot connect to ${url} (${why}): no server is running there; ${options.notRunning}.`);
  }
  if (!response.ok) {
    const text = await response.text().catch(() => "");
    throw new Error(`POST ${url} answered ${response.status} ${response.statusText}: ${_errorText(text)}`);
  }
  if (!response.body) throw new Error(`POST ${url} answered ${response.status} with no body to stream.`);
  for await (const line of readLines(response.body)) yield line.replace(/\r$/, "");
}
