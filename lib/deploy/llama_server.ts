/**
 * llama.cpp's own OpenAI-compatible server on a GGUF file, for {@linkcode chatStream} and as the lesson's stand-in
 * for Ollama where no `ollama` binary is installed. It comes from PyPI's `xllamacpp` (a prebuilt wheel that embeds
 * llama.cpp's server; npm and PyPI ship no plain `llama-server` executable), run by `python/llama_server.py`.
 *
 * The server process watches its stdin: {@linkcode LlamaServer.stop} closes it, and if this process dies the pipe
 * closes as well — the server never outlives the notebook that started it.
 *
 * @module
 */
import { z } from "zod";
import { projectRoot } from "../env/paths.ts";
import { absPath } from "../util/fs.ts";
import { readLines } from "../util/lines.ts";
import { parseJsonLine } from "../util/json_lines_process.ts";
import { ensureDeployPython } from "./deploy_tools.ts";

/** Options of {@linkcode startLlamaServer}. */
export interface LlamaServerOptions {
  /** The GGUF file to serve (its chat template is used for `/v1/chat/completions`). */
  gguf: string;
  /** Port to listen on (default 0: a free one; read it from `baseUrl`). */
  port?: number;
  /** Host to listen on (default `127.0.0.1`: this machine only). */
  host?: string;
  /** CPU threads for generation (default 1: on a small shared CPU more threads are slower). */
  threads?: number;
  /** Context length in tokens (default 256, the built-in model's). */
  contextSize?: number;
  /** Longest wait for the server to load and answer `/health` (default 60 s). */
  timeoutSeconds?: number;
}

/** A running server. */
export interface LlamaServer extends AsyncDisposable {
  /** e.g. `http://127.0.0.1:41523` (give it to {@linkcode chatStream}). */
  readonly baseUrl: string;
  /** The server's process id. */
  readonly pid: number;
  /** Stops the server and waits until its process has exited (idempotent). */
  stop(): Promise<void>;
}

const Ready = z.union([z.object({ baseUrl: z.string().url() }), z.object({ error: z.string() })]);

/**
 * Starts llama.cpp's server on a GGUF file and waits until `/health` answers `{"status":"ok"}`.
 *
 * @param options The GGUF file, port, threads, context size.
 * @returns The server's base URL and `stop()` (also `await using`).
 * @throws {Error} One line: the file is missing, the port is taken, llama.cpp cannot load the file, or the server
 * did not become healthy in time (with its last log line).
 *
 * @example
 * ```ts ignore
 * import { startLlamaServer } from "./llama_server.ts";
 * import { chatStream } from "./openai_chat.ts";
 * const server = await startLlamaServer({ gguf: "out/ince-tiny-f16.gguf" });
 * try {
 *   const { text } = await chatStream({ baseUrl: server.baseUrl, messages: [{ role: "user", content: "Hi" }] });
 *   console.log(text);
 * } finally {
 *   await server.stop();
 * }
 * ```
 */
export async function startLlamaServer(options: LlamaServerOptions): Promise<LlamaServer> {
  const gguf = absPath(options.gguf);
  try {
    if (!Deno.statSync(gguf).isFile) throw new Error("not a file");
  } catch {
    throw new Error(`${options.gguf}: no such GGUF file; convert the model first (convertToGguf).`);
  }
  const python = await ensureDeployPython();
  const shared = `${projectRoot()}/lib/infer/python`;
  const child = new Deno.Command(python, {
    args: [`${projectRoot()}/lib/deploy/python/llama_server.py`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: {
      PYTHONUNBUFFERED: "1",
      PYTHONPATH: [shared, Deno.env.get("PYTHONPATH")].filter(Boolean).join(":"),
    },
  }).spawn();
  const stderrTail: string[] = [];
  const stderrDone = (async () => {
    for await (const line of readLines(child.stderr)) {
      stderrTail.push(line);
      stderrTail.splice(0, Math.max(0, stderrTail.length - 20));
    }
  })();
  const stdin = child.stdin.getWriter();
  const host = options.host ?? "127.0.0.1";
  const job = {
    gguf,
    host,
    port: options.port ?? 0,
    threads: options.threads ?? 1,
    contextSize: options.contextSize ?? 256,
  };
  await stdin.write(new TextEncoder().encode(JSON.stringify(job) + "\n"));

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    stopped ??= (async () => {
      await stdin.close().catch(() => {}); // the server exits when its stdin closes
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* already gone */ }
      }, 10_000);
      await child.status;
      clearTimeout(timer);
      await stderrDone.catch(() => {});
    })();
  const failed = async (why: string): Promise<never> => {
    await stop();
    throw new Error(`llama.cpp's server on ${options.gguf} ${why}: ${stderrTail.at(-1) ?? "(no log)"}`);
  };

  const stdout = readLines(child.stdout);
  const limit = options.timeoutSeconds ?? 60;
  const deadline = Date.now() + limit * 1000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const first = await Promise.race([
    stdout.next(),
    new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), limit * 1000)),
  ]);
  clearTimeout(timer);
  if (first === "timeout") return await failed(`did not start within ${limit} s`);
  if (first.done) return await failed("exited without answering");
  let ready: z.infer<typeof Ready>;
  try {
    ready = parseJsonLine(first.value, Ready, "llama_server.py's answer");
  } catch (e) {
    await stop();
    throw e;
  }
  if ("error" in ready) {
    await stop();
    throw new Error(ready.error);
  }
  const { baseUrl } = ready;
  // Drain stdout so the process never blocks on a full pipe.
  (async () => {
    for await (const _ of stdout) { /* nothing else is expected */ }
  })().catch(() => {});

  while (true) {
    try {
      const health = await fetch(`${baseUrl}/health`);
      const body = await health.json().catch(() => ({}));
      if (health.ok && body?.status === "ok") break;
    } catch { /* not answering yet */ }
    if (Date.now() > deadline) return await failed("did not answer /health in time");
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl, pid: child.pid, stop, [Symbol.asyncDispose]: stop };
}
