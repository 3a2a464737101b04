/**
 * The one way ince talks to a Python process: spawn it, optionally send one JSON job on stdin, and read
 * its stdout as JSON lines, each checked against a zod schema. The trainer, the notebook runner and the
 * inference jobs all go through {@linkcode spawnJsonLines}.
 *
 * @module
 */
import type { z } from "zod";
import { readLines } from "./lines.ts";

/** Options for {@linkcode spawnJsonLines}. */
export interface SpawnJsonLinesOptions<T> {
  /** The program (usually `pythonPath()`). */
  command: string;
  /** Its arguments (the script first). */
  args: string[];
  /** Each stdout line must match this schema. */
  schema: z.ZodType<T>;
  /** Where the lines come from, for errors (e.g. `"the trainer"`). */
  where: string;
  /** Sent as JSON on stdin, which is then closed; without it stdin is `null`. */
  job?: unknown;
  cwd?: string;
  /** Added to the environment (`PYTHONUNBUFFERED=1` is always set). */
  env?: Record<string, string>;
  /** Called with each chunk of stderr as it arrives (the last 20 lines are kept either way). */
  onStderr?: (chunk: string) => void | Promise<void>;
  /**
   * A stdout line that is not JSON (e.g. a library printing to stdout): by default an error naming the
   * line; `"skip"` ignores it.
   */
  otherLines?: "error" | "skip";
  /** Aborting sends SIGINT (the Python side stops cleanly). */
  signal?: AbortSignal;
}

/** A running process: its validated lines, then its exit status and last stderr lines. */
export interface JsonLinesProcess<T> {
  /** The validated stdout lines, as they arrive. */
  lines: AsyncGenerator<T>;
  /** Resolves once the process has exited and stderr is read (after `lines` is done). */
  finished: Promise<{ status: Deno.CommandStatus; stderrTail: string[] }>;
  /** The last (at most 20) non-empty stderr lines so far. */
  stderrTail: string[];
}

/**
 * Parses one JSON line against a schema, with an error naming where the line came from and the field.
 *
 * @param line The text.
 * @param schema The zod schema.
 * @param where e.g. `runs/x/events.jsonl:3`.
 * @returns The typed value.
 * @throws {Error} `<where>: not JSON: …` or `<where>: field <path>: <zod message>`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { parseJsonLine } from "./json_lines_process.ts";
 * const schema = z.object({ n: z.number() });
 * assert.deepEqual(parseJsonLine('{"n":1}', schema, "x:1"), { n: 1 });
 * assert.throws(() => parseJsonLine('{"n":"a"}', schema, "x:2"), /x:2: field n:/);
 * ```
 */
export function parseJsonLine<T>(line: string, schema: z.ZodType<T>, where: string): T {
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    throw new Error(`${where}: not JSON: ${line.slice(0, 120)}`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`${where}: field ${i.path.join(".") || "(root)"}: ${i.message}`);
  }
  return parsed.data;
}

/**
 * Spawns a process and streams its stdout as validated JSON lines.
 *
 * @param options Command, arguments, schema, optional stdin job, environment, abort signal.
 * @returns The lines (an async iterator) and a promise of the exit status with the stderr tail.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { spawnJsonLines } from "./json_lines_process.ts";
 * const p = spawnJsonLines({
 *   command: Deno.execPath(),
 *   args: ["eval", "const j = JSON.parse(await new Response(Deno.stdin.readable).text()); console.log(JSON.stringify({ n: j.n + 1 }))"],
 *   job: { n: 41 },
 *   schema: z.object({ n: z.number() }),
 *   where: "deno eval",
 * });
 * const got = [];
 * for await (const line of p.lines) got.push(line.n);
 * assert.deepEqual(got, [42]);
 * assert.equal((await p.finished).status.success, true);
 * ```
 */
export function spawnJsonLines<T>(options: SpawnJsonLinesOptions<T>): JsonLinesProcess<T> {
  const child = new Deno.Command(options.command, {
    args: options.args,
    cwd: options.cwd,
    stdin: options.job === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
    env: { PYTHONUNBUFFERED: "1", ...options.env },
  }).spawn();
  const onAbort = () => {
    try {
      child.kill("SIGINT");
    } catch {
      // already gone
    }
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();

  const stderrTail: string[] = [];
  const stderrDone = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      await options.onStderr?.(chunk);
      stderrTail.push(...chunk.split("\n").filter((l) => l.trim()));
      stderrTail.splice(0, Math.max(0, stderrTail.length - 20));
    }
  })();
  const jobSent = options.job === undefined ? Promise.resolve() : (async () => {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(JSON.stringify(options.job)));
    await w.close();
  })();

  let linesDone!: () => void;
  const linesFinished = new Promise<void>((resolve) => linesDone = resolve);
  async function* lines(): AsyncGenerator<T> {
    let n = 0;
    try {
      for await (const line of readLines(child.stdout)) {
        n++;
        if (options.otherLines === "skip" && !line.trimStart().startsWith("{")) continue;
        yield parseJsonLine(line, options.schema, `${options.where}, stdout line ${n}`);
      }
    } finally {
      linesDone();
    }
  }
  const finished = (async () => {
    await linesFinished;
    const status = await child.status;
    await stderrDone;
    await jobSent.catch(() => {}); // a process that exits without reading stdin is reported by its status
    options.signal?.removeEventListener("abort", onAbort);
    return { status, stderrTail };
  })();
  return { lines: lines(), finished, stderrTail };
}
