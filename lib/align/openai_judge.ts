/**
 * Any OpenAI-compatible chat endpoint as the judge — llama.cpp's server, Ollama's `/v1`, vLLM, a hosted API —
 * through {@linkcode chatStream} at temperature 0. It is sent the texts of {@linkcode judgeMessages}; its
 * comparison answers are read by {@linkcode parseVerdict}.
 *
 * The API key is read from an environment variable whose *name* is given, and goes only into the request's
 * `Authorization` header: it is not in the judge's name, its recorded calls or its errors (a server that
 * echoes the key in an error message has it cut out: `***`).
 *
 * @module
 */
import { chatStream } from "../deploy/openai_chat.ts";
import { judgeMessages, requestText } from "./judge_prompts.ts";
import { type ExchangeJudge, exchangeJudge } from "./recorded_judge.ts";

/** Options of {@linkcode openAiJudge}. */
export interface OpenAiJudgeOptions {
  /** The server, e.g. `http://127.0.0.1:8080` or `https://api.openai.com` (`/v1` optional). */
  baseUrl: string;
  /** The model name (llama.cpp's server ignores it; default `"default"`). */
  model?: string;
  /** The environment variable holding the API key, e.g. `"OPENAI_API_KEY"` (none: no key is sent). */
  apiKeyEnv?: string;
  /** Longest critique or revision in tokens (default 64). */
  maxTokens?: number;
  /** Longest comparison answer in tokens (default 16: "Response (A)" and a few words). */
  maxVerdictTokens?: number;
}

/**
 * A text with every run of non-space characters that shares 6 or more characters with the key replaced by
 * `***` (so a key echoed whole or in part, `sk-proj-…abcd`, is gone).
 */
function _redact(text: string, key: string | undefined): string {
  if (!key) return text;
  const window = Math.min(6, key.length);
  const pieces = new Set<string>();
  for (let i = 0; i + window <= key.length; i++) pieces.add(key.slice(i, i + window));
  return text.replace(/\S+/g, (run) => {
    for (let i = 0; i + window <= run.length; i++) if (pieces.has(run.slice(i, i + window))) return "***";
    return run;
  });
}

/** The base URL without user name or password, for the judge's name. */
function _publicUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/+$/, "");
  } catch {
    return baseUrl.replace(/\/\/[^/@]*@/, "//");
  }
}

/**
 * A judge answered by an OpenAI-compatible chat endpoint, at temperature 0.
 *
 * @param options The server, model name, the environment variable with the API key, answer lengths.
 * @returns The judge, named `openai:<base URL>` (`openai:<model>@<base URL>` with a model name). Its exchanges
 * report the server's time and token usage.
 * @throws {Error} One line, at once: `apiKeyEnv` names a variable that is not set. From a call (rejected
 * promise): the server is not there, answered an HTTP error, or broke the stream — the key never in the text.
 *
 * @example Against llama.cpp's server on the built-in model
 * ```ts ignore
 * import { openAiJudge } from "./openai_judge.ts";
 * import { startLlamaServer } from "../deploy/llama_server.ts";
 * await using server = await startLlamaServer({ gguf: "out/ince-tiny-f32.gguf" });
 * const judge = openAiJudge({ baseUrl: server.baseUrl });
 * const principle = { id: "harmless", description: "Refuse harmful requests.", critiqueRequest: "…",
 *   revisionRequest: "…", comparisonQuestion: "Which response is less harmful?" };
 * console.log(await judge.compare({
 *   prompt: [{ role: "user", content: "Tell me how to steal a car." }],
 *   a: "Break a window.", b: "I can't help with that.", principle,
 * }));
 * ```
 *
 * @example A key variable that is not set
 * ```ts
 * import assert from "node:assert/strict";
 * import { openAiJudge } from "./openai_judge.ts";
 * assert.throws(
 *   () => openAiJudge({ baseUrl: "http://127.0.0.1:1", apiKeyEnv: "INCE_NO_SUCH_KEY_VARIABLE" }),
 *   /^Error: openAiJudge: the environment variable INCE_NO_SUCH_KEY_VARIABLE is not set/,
 * );
 * ```
 */
export function openAiJudge(options: OpenAiJudgeOptions): ExchangeJudge {
  const apiKey = options.apiKeyEnv === undefined ? undefined : Deno.env.get(options.apiKeyEnv);
  if (options.apiKeyEnv !== undefined && !apiKey) {
    throw new Error(
      `openAiJudge: the environment variable ${options.apiKeyEnv} is not set; export the API key in it ` +
        "(or leave apiKeyEnv out for a server without a key).",
    );
  }
  const url = _publicUrl(options.baseUrl);
  const name = `openai:${options.model ? `${options.model}@` : ""}${url}`;
  return exchangeJudge(name, async (request) => {
    try {
      const reply = await chatStream({
        baseUrl: options.baseUrl,
        model: options.model,
        messages: judgeMessages(request),
        maxTokens: request.kind === "compare" ? options.maxVerdictTokens ?? 16 : options.maxTokens ?? 64,
        temperature: 0,
        apiKey,
      });
      const tokens = reply.usage ? reply.usage.promptTokens + reply.usage.completionTokens : undefined;
      return {
        request: requestText(request),
        answer: _redact(reply.text, apiKey),
        seconds: reply.seconds,
        ...(tokens === undefined ? {} : { tokens }),
      };
    } catch (e) {
      const message = _redact((e as Error).message.replace(/\s+/g, " "), apiKey);
      throw new Error(`${_redact(name, apiKey)} judge: ${message}`);
    }
  });
}
