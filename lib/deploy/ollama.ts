/**
 * Ollama, when it is installed (a student's machine; not our CI): find the `ollama` binary, `ollama create` a
 * model from a Modelfile, and chat through Ollama's REST API (`POST /api/chat`, a stream of JSON lines). Where
 * the binary is absent, the lesson says so in one line and chats with llama.cpp's OpenAI-compatible server
 * instead ({@linkcode startLlamaServer} + {@linkcode chatStream}), which returns the same {@linkcode ChatResult}.
 *
 * @module
 */
import type { Message } from "../data/load_dataset.ts";
import { absPath } from "../util/fs.ts";
import { postLines } from "./_post_lines.ts";
import { parseModelfile } from "./modelfile.ts";
import type { ChatResult } from "./openai_chat.ts";

/** Where `ollama serve` listens by default. */
export const OLLAMA_URL = "http://127.0.0.1:11434";

/** Options of {@linkcode findOllama}. */
export interface FindOllamaOptions {
  /** The search path (default: the `PATH` environment variable). */
  path?: string;
}

/**
 * Finds the `ollama` executable on the search path.
 *
 * @param options The search path (default `PATH`).
 * @returns Its path, or null when Ollama is not installed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { findOllama } from "./ollama.ts";
 * const dir = Deno.makeTempDirSync();
 * assert.equal(findOllama({ path: dir }), null);
 * Deno.writeTextFileSync(`${dir}/ollama`, "#!/bin/sh\n", { mode: 0o755 });
 * assert.equal(findOllama({ path: `/nonexistent:${dir}` }), `${dir}/ollama`);
 * ```
 */
export function findOllama(options: FindOllamaOptions = {}): string | null {
  const windows = Deno.build.os === "windows";
  const search = options.path ?? Deno.env.get("PATH") ?? "";
  for (const dir of search.split(windows ? ";" : ":").filter(Boolean)) {
    const candidate = `${dir}/${windows ? "ollama.exe" : "ollama"}`;
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && (windows || ((info.mode ?? 0) & 0o111) !== 0)) return candidate;
    } catch { /* not in this folder */ }
  }
  return null;
}

/** Options of {@linkcode ollamaCreate}. */
export interface OllamaCreateOptions {
  /** The model's name in Ollama, e.g. `"ince-tiny"`. */
  name: string;
  /** The Modelfile on disk (its `FROM` path is relative to the Modelfile's folder). */
  modelfile: string;
  /** The `ollama` executable (default: {@linkcode findOllama}). */
  ollama?: string;
}

/**
 * Runs `ollama create <name> -f <modelfile>` (needs `ollama serve` running), after checking the Modelfile with
 * {@linkcode parseModelfile}.
 *
 * @param options The model's name, the Modelfile, the executable.
 * @returns The name and how long it took.
 * @throws {Error} One line: Ollama is not installed, the Modelfile is missing or malformed (with its line), or
 * `ollama create` failed (with its last message).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ollamaCreate } from "./ollama.ts";
 * const dir = Deno.makeTempDirSync();
 * Deno.writeTextFileSync(`${dir}/Modelfile`, "FROM ./m.gguf\n");
 * await assert.rejects(
 *   ollamaCreate({ name: "m", modelfile: `${dir}/Modelfile`, ollama: `${dir}/no-ollama` }),
 *   /ollama create: could not start .*no-ollama.*install Ollama/,
 * );
 * ```
 */
export async function ollamaCreate(options: OllamaCreateOptions): Promise<{ name: string; seconds: number }> {
  const ollama = options.ollama ?? findOllama();
  if (!ollama) {
    throw new Error(
      "ollama is not on PATH: install Ollama (https://ollama.com) to create the model, or serve the GGUF with " +
        "startLlamaServer() and chat with chatStream().",
    );
  }
  let text: string;
  try {
    text = Deno.readTextFileSync(options.modelfile);
  } catch {
    throw new Error(`${options.modelfile}: no such Modelfile; write it with writeModelfile() first.`);
  }
  parseModelfile(text, { file: options.modelfile });
  const modelfile = absPath(options.modelfile);
  const started = performance.now();
  let out: Deno.CommandOutput;
  try {
    out = await new Deno.Command(ollama, {
      args: ["create", options.name, "-f", modelfile],
      cwd: modelfile.replace(/\/[^/]*$/, "") || "/",
      stdout: "piped",
      stderr: "piped",
    }).output();
  } catch (e) {
    throw new Error(
      `ollama create: could not start ${ollama} (${(e as Error).message}); install Ollama or fix the path.`,
    );
  }
  if (!out.success) {
    const said = new TextDecoder().decode(out.stderr).trim().split("\n").filter(Boolean).at(-1) ?? "";
    throw new Error(`ollama create ${options.name} failed (exit ${out.code}): ${said}`);
  }
  return { name: options.name, seconds: (performance.now() - started) / 1000 };
}

/** Options of {@linkcode ollamaChat}. */
export interface OllamaChatOptions {
  /** The model's name in Ollama (as given to {@linkcode ollamaCreate}). */
  model: string;
  /** The conversation. */
  messages: Message[];
  /** Ollama's address (default {@linkcode OLLAMA_URL}). */
  baseUrl?: string;
  /** Longest answer in tokens (`num_predict`; default 32). */
  maxTokens?: number;
  /** Sampling temperature (default 0). */
  temperature?: number;
  /** Called with each piece of text as it arrives. */
  onText?: (piece: string) => void;
  /** Aborts the request. */
  signal?: AbortSignal;
}

interface _OllamaLine {
  message?: { content?: string };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  eval_duration?: number;
  error?: string;
}

/**
 * Chats with a model through Ollama's REST API (`POST /api/chat`, `stream: true`: one JSON object per line).
 *
 * @param options The model, conversation, answer length, temperature, `onText`, abort signal.
 * @returns The same shape as {@linkcode chatStream}'s (speed from Ollama's `eval_count` / `eval_duration`).
 * @throws {Error} One line: Ollama is not running (`Cannot connect to …: start it with \`ollama serve\``), an HTTP
 * error (e.g. the model does not exist), or an error in the stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ollamaChat } from "./ollama.ts";
 * const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
 * const port = (free.addr as Deno.NetAddr).port;
 * free.close();
 * await assert.rejects(
 *   ollamaChat({ baseUrl: `http://127.0.0.1:${port}`, model: "ince-tiny", messages: [{ role: "user", content: "Hi" }] }),
 *   /Cannot connect to .*\/api\/chat \(connection refused\).*ollama serve/,
 * );
 * ```
 */
export async function ollamaChat(options: OllamaChatOptions): Promise<ChatResult> {
  const url = `${(options.baseUrl ?? OLLAMA_URL).replace(/\/+$/, "")}/api/chat`;
  const body = {
    model: options.model,
    messages: options.messages,
    stream: true,
    options: { temperature: options.temperature ?? 0, num_predict: options.maxTokens ?? 32 },
  };
  const started = performance.now();
  const result: ChatResult = { text: "", finishReason: null, chunks: 0, seconds: 0 };
  const lines = postLines(url, body, {
    notRunning: "start it with `ollama serve` (or install Ollama from https://ollama.com)",
    signal: options.signal,
  });
  for await (const line of lines) {
    let msg: _OllamaLine;
    try {
      msg = JSON.parse(line);
    } catch {
      throw new Error(`${url}: Ollama sent a line that is not JSON: ${line.slice(0, 120)}`);
    }
    if (msg.error) throw new Error(`${url}: Ollama reported an error: ${msg.error.replace(/\s+/g, " ")}`);
    const piece = msg.message?.content;
    if (piece) {
      result.text += piece;
      result.chunks++;
      options.onText?.(piece);
    }
    if (msg.done) {
      result.finishReason = msg.done_reason ?? null;
      if (msg.eval_count !== undefined) {
        result.usage = { promptTokens: msg.prompt_eval_count ?? 0, completionTokens: msg.eval_count };
        if (msg.eval_duration) result.tokensPerSecond = msg.eval_count / (msg.eval_duration / 1e9);
      }
      break;
    }
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
