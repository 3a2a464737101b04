/**
 * LLaMA-Factory's web UI (LlamaBoard), started from its own Python environment on a local port.
 *
 * @module
 */
import { projectRoot } from "../env/paths.ts";
import { killAfter } from "../util/kill_after.ts";
import { readLines } from "../util/lines.ts";
import { llamaFactoryPython } from "./environment.ts";

/** Options for {@linkcode startLlamaFactoryWebUi}. */
export interface LlamaFactoryWebUiOptions {
  /** The port (default 0: a free one). */
  port?: number;
  /** The address it listens on (default `127.0.0.1`: this machine only; `0.0.0.0` opens it to the network). */
  host?: string;
  /** Its working folder, where LlamaBoard keeps its saves and cache (default `<project>/runs/llamafactory-webui`). */
  cwd?: string;
  /** How long to wait for the page to answer (default 180 s). */
  timeoutMs?: number;
  /** Extra environment. */
  env?: Record<string, string>;
}

/** A running web UI. */
export interface LlamaFactoryWebUi {
  /** Its address, e.g. `http://127.0.0.1:7860/`. */
  url: string;
  /** Seconds from the start until the page answered HTTP 200. */
  startSeconds: number;
  /** Stops it: SIGINT (Gradio closes the server), SIGKILL after 10 s. Resolves with the exit status. */
  stop(): Promise<Deno.CommandStatus>;
}

/** A port nobody listens on right now. */
function _freePort(host: string): number {
  const listener = Deno.listen({ hostname: host, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Starts LLaMA-Factory's web UI (`llamafactory-cli webui`) and waits until its page answers HTTP 200. No
 * browser is opened, Gradio's analytics are off, and the Hub is not contacted (HF_HUB_OFFLINE).
 *
 * @param options Port, host, working folder, time limit.
 * @returns Its address and `stop()`.
 * @throws {Error} When it exits early or does not answer in time (its last log lines; it is stopped).
 *
 * @example Start, fetch the page, stop
 * ```ts ignore
 * import { startLlamaFactoryWebUi } from "./webui.ts";
 * const ui = await startLlamaFactoryWebUi();
 * console.log(ui.url, (await fetch(ui.url)).status);
 * await ui.stop();
 * ```
 */
export async function startLlamaFactoryWebUi(
  options: LlamaFactoryWebUiOptions = {},
): Promise<LlamaFactoryWebUi> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port || _freePort(host);
  const cwd = options.cwd ?? `${projectRoot()}/runs/llamafactory-webui`;
  Deno.mkdirSync(cwd, { recursive: true });
  const t0 = performance.now();
  const child = new Deno.Command(await llamaFactoryPython(), {
    args: ["-m", "llamafactory.cli", "webui"],
    cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    env: {
      GRADIO_SERVER_PORT: String(port),
      GRADIO_SERVER_NAME: host,
      GRADIO_ANALYTICS_ENABLED: "False",
      DO_NOT_TRACK: "1",
      // It calls launch(inbrowser=True): `true` as the browser opens nothing.
      BROWSER: "true",
      HF_HUB_OFFLINE: "1",
      PYTHONUNBUFFERED: "1",
      ...options.env,
    },
  }).spawn();
  const tail: string[] = [];
  let announced: string | undefined;
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const line of readLines(stream)) {
      tail.push(line);
      tail.splice(0, Math.max(0, tail.length - 20));
      announced ??= line.match(/Running on local URL:\s*(\S+)/)?.[1];
    }
  };
  const output = Promise.all([read(child.stdout), read(child.stderr)]);
  let exited: Deno.CommandStatus | undefined;
  const status = child.status.then((s) => exited = s);
  const stop = async () => {
    if (!exited) {
      try {
        child.kill("SIGINT");
      } catch { /* already gone */ }
    }
    const timer = killAfter(child, 10_000);
    const s = await status;
    timer.clear();
    await output;
    return s;
  };
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}/`;
  const deadline = t0 + (options.timeoutMs ?? 180_000);
  while (true) {
    if (exited) {
      await output;
      throw new Error(
        `LLaMA-Factory's web UI exited (code ${exited.code}) before answering on ${url}. Last lines: ${
          tail.slice(-5).join(" | ")
        }`,
      );
    }
    if (performance.now() > deadline) {
      await stop();
      throw new Error(
        `LLaMA-Factory's web UI did not answer on ${url} within ${
          (options.timeoutMs ?? 180_000) / 1000
        } s (stopped it). Last lines: ${tail.slice(-5).join(" | ") || "(none)"}`,
      );
    }
    if (announced) {
      try {
        const response = await fetch(url);
        await response.body?.cancel();
        if (response.status === 200) break;
      } catch { /* not listening yet */ }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return { url, startSeconds: Math.round(performance.now() - t0) / 1000, stop };
}
