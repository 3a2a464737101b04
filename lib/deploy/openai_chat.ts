/**
 * A streaming chat client for OpenAI-compatible servers (`POST /v1/chat/completions` with `stream: true`):
 * llama.cpp's server (see {@linkcode startLlamaServer}), vLLM, LM Studio, Ollama's `/v1`, OpenAI itself. The
 * answer arrives as server-sent events — `data: {chat.completion.chunk}` lines, then `data: [DONE]` — and each
 * piece of text goes to `onText` as it arrives, so a notebook shows the answer being written.
 *
 * @module
 */
import type { Message } from "../data/load_dataset.ts";
import { postLines } from "./_post_lines.ts";

/** Options of {@linkcode chatStream}. */
export interface ChatStreamOptions {
  /** The server, e.g. `http://127.0.0.1:8080` (a trailing `/v1` is fine too). */
  baseUrl: string;
  /** The model name (llama.cpp's server serves one model and ignores it; default `"default"`). */
  model?: string;
  /** The conversation. */
  messages: Message[];
  /** Longest answer in tokens (default 32, as the lesson's answer rule). */
  maxTokens?: number;
  /** Sampling temperature (default 0: greedy, so answers are reproducible). */
  temperature?: number;
  /** Called with each piece of text as it arrives. */
  onText?: (piece: string) => void;
  /** Aborts the request. */
  signal?: AbortSignal;
  /** Sent as `Authorization: Bearer …` when given. */
  apiKey?: string;
}

/** A streamed answer. */
export interface ChatResult {
  /** The whole answer (the pieces joined). */
  text: string;
  /** Why it ended: `"stop"` (end of turn or a stop string), `"length"` (maxTokens), … (null if not said). */
  finishReason: string | null;
  /** How many pieces of text arrived (a streamed answer has several). */
  chunks: number;
  /** Token counts, when the server reports them. */
  usage?: { promptTokens: number; completionTokens: number };
  /** Wall time of the request, first byte sent to last byte read. */
  seconds: number;
  /**
   * Generated tokens per second: the server's own measure when it gives one (llama.cpp's
   * `timings.predicted_per_second`), else completion tokens / `seconds`; absent without usage.
   */
  tokensPerSecond?: number;
}

/** The URL of the chat endpoint under a base URL with or without `/v1`. */
function _endpoint(baseUrl: string): string {
  const base = baseUrl.replace(/\/+$/, "");
  return `${base.endsWith("/v1") ? base : `${base}/v1`}/chat/completions`;
}

interface _Chunk {
  choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  timings?: { predicted_per_second?: number };
  error?: { message?: string } | string;
}

/**
 * Sends a conversation to an OpenAI-compatible server and streams the answer.
 *
 * @param options Server, conversation, answer length, temperature, `onText`, abort signal.
 * @returns The answer, why it ended, how many pieces arrived, token usage and speed.
 * @throws {Error} One line: the server is not running (`Cannot connect to <url> …`), it answered an HTTP error
 * (`POST <url> answered 400 Bad Request: <its message>`), or it reported an error in the stream.
 *
 * @example With llama.cpp's server on a GGUF file
 * ```ts ignore
 * import { chatStream } from "./openai_chat.ts";
 * import { startLlamaServer } from "./llama_server.ts";
 * await using server = await startLlamaServer({ gguf: "out/ince-tiny-f16.gguf" });
 * const reply = await chatStream({
 *   baseUrl: server.baseUrl,
 *   messages: [{ role: "user", content: "Write 47 in Turkish words." }],
 *   onText: (piece) => Deno.stdout.writeSync(new TextEncoder().encode(piece)),
 * });
 * console.log(`\n${reply.chunks} pieces, ${reply.tokensPerSecond?.toFixed(0)} tokens/s`);
 * ```
 *
 * @example No server at the address
 * ```ts
 * import assert from "node:assert/strict";
 * import { chatStream } from "./openai_chat.ts";
 * const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (free.addr as Deno.NetAddr).port;
 * free.close();
 * await assert.rejects(
 *   chatStream({ baseUrl: `http://127.0.0.1:${port}`, messages: [{ role: "user", content: "Hi" }] }),
 *   /^Error: Cannot connect to http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions \(connection refused\): no server is running there/,
 * );
 * ```
 */
export async function chatStream(options: ChatStreamOptions): Promise<ChatResult> {
  const url = _endpoint(options.baseUrl);
  const body = {
    model: options.model ?? "default",
    messages: options.messages,
    max_tokens: options.maxTokens ?? 32,
    temperature: options.temperature ?? 0,
    stream: true,
    stream_options: { include_usage: true },
  };
  const started = performance.now();
  let text = "";
  let chunks = 0;
  let finishReason: string | null = null;
  let usage: ChatResult["usage"];
  let serverSpeed: number | undefined;
  const lines = postLines(url, body, {
    notRunning: "start one (e.g. startLlamaServer({ gguf })) or check the port",
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : undefined,
    signal: options.signal,
  });
  for await (const line of lines) {
    if (!line.startsWith("data:")) continue; // SSE comments (": ping"), event names, ids
    const data = line.slice(5).trim();
    if (data === "[DONE]") break;
    let chunk: _Chunk;
    try {
      chunk = JSON.parse(data);
    } catch {
      throw new Error(`${url}: the stream sent a data line that is not JSON: ${data.slice(0, 120)}`);
    }
    if (chunk.error) {
      const message = typeof chunk.error === "string"
        ? chunk.error
        : chunk.error.message ?? JSON.stringify(chunk.error);
      throw new Error(`${url}: the server reported an error in the stream: ${message.replace(/\s+/g, " ")}`);
    }
    const choice = chunk.choices?.[0];
    const piece = choice?.delta?.content;
    if (piece) {
      text += piece;
      chunks++;
      options.onText?.(piece);
    }
    if (choice?.finish_reason) finishReason = choice.finish_reason;
    if (chunk.usage) {
      usage = {
        promptTokens: chunk.usage.prompt_tokens ?? 0,
        completionTokens: chunk.usage.completion_tokens ?? 0,
      };
    }
    if (chunk.timings?.predicted_per_second) serverSpeed = chunk.timings.predicted_per_second;
  }
  const seconds = (performance.now() - started) / 1000;
  const tokensPerSecond = serverSpeed ?? (usage ? usage.completionTokens / seconds : undefined);
  return { text, finishReason, chunks, usage, seconds, tokensPerSecond };
}
