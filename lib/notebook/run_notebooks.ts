/**
 * Headless notebook execution through the real Jupyter client (nbclient) with our Deno kernel.
 * The Python side (`python/routing_client.py`) files every output under the cell whose request it
 * answers (`parent_header.msg_id`), also when it arrives after the cell's idle, and before the next
 * cell waits for the timers and I/O the cell left pending, so no output is lost or lands in the
 * wrong cell.
 *
 * @module
 */
import { projectRoot, pythonPath } from "../env/paths.ts";
import { INCE_KERNEL, readNotebook } from "./read_notebook.ts";
import { injectParameters } from "./inject_parameters.ts";
import { writeNotebook } from "./write_notebook.ts";
import { findNotebooks } from "./find_notebooks.ts";
import { z } from "zod";
import { spawnJsonLines } from "../util/json_lines_process.ts";

/** Options for {@linkcode runNotebooks}. */
export interface RunNotebooksOptions {
  /** Folder for the executed copies, written as `<out>/<same file name>` (default `out`). */
  out?: string;
  /** Per-cell time limit in seconds (default 600; 0 = none). */
  timeout?: number;
  /** Also write a static HTML copy next to each executed notebook. */
  html?: boolean;
  /**
   * Route late outputs to their own cell (default true). `false` runs stock nbclient, which loses or
   * misplaces outputs that arrive after a cell's idle: kept for the benchmark and the negative control.
   */
  settle?: boolean;
  /**
   * At most this long after a cell, wait for the timers and I/O it left pending, so that their output
   * still lands in that cell (default 5000 ms). A cell that leaves work running longer (a server, a
   * `setInterval`) costs this once; later cells of that notebook then no longer wait.
   */
  pendingMaxMs?: number;
  /** Called with each progress event (start, cell, done) as it arrives. */
  onEvent?: (event: RunEvent) => void;
  /** Extra environment for the runner and kernel. */
  env?: Record<string, string>;
  /** Lesson parameters (`name → value`): a cell setting them is injected after the `parameters` cell. */
  params?: Record<string, string>;
}

/** Why a notebook failed. */
export const NotebookErrorSchema = z.object({
  /** 0-based index of the cell in `cells`, or null when the kernel never ran a cell. */
  index: z.number().int().nullable(),
  kind: z.enum(["error", "timeout", "dead-kernel", "kernel"]),
  ename: z.string(),
  evalue: z.string(),
  /** First line of the error. */
  message: z.string(),
  /** First non-empty line of the failing cell's source. */
  source: z.string().optional(),
});
/** Why a notebook failed. */
export type NotebookError = z.infer<typeof NotebookErrorSchema>;

const _result = {
  notebook: z.string(),
  ok: z.boolean(),
  /** The executed copy (written also when a cell failed). */
  out: z.string(),
  html: z.string().nullable(),
  error: NotebookErrorSchema.nullable(),
};

/** One event from the runner (`python/run_notebooks.py`), checked line by line. */
export const RunEventSchema = z.discriminatedUnion("event", [
  z.object({ event: z.literal("start"), notebook: z.string(), cells: z.number().int() }),
  z.object({ event: z.literal("cell"), notebook: z.string(), index: z.number().int(), seconds: z.number() }),
  z.object({ event: z.literal("done"), ..._result }),
]);
/** One event from the runner. */
export type RunEvent = z.infer<typeof RunEventSchema>;

/** The outcome for one notebook. */
export type NotebookResult = Omit<Extract<RunEvent, { event: "done" }>, "event">;

/**
 * Expands paths to notebooks ({@linkcode findNotebooks}: folders recursively) and checks each file can
 * run: it is valid nbformat 4 JSON and uses our kernel.
 *
 * @param paths Notebook files or folders.
 * @returns The notebook files, in order.
 * @throws {Error} The first problem, as one line naming the file.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { collectNotebooks } from "./run_notebooks.ts";
 * const files = collectNotebooks([`${projectRoot()}/notebooks/00-first-time-beginner`]);
 * assert.ok(files.some((f) => f.endsWith("00-first-fine-tune.ipynb")));
 * ```
 */
export function collectNotebooks(paths: string[]): string[] {
  const files = findNotebooks(paths);
  for (const file of files) readNotebook(file, { kernel: INCE_KERNEL });
  return files;
}

/**
 * Runs notebooks headless, each in a fresh kernel whose cwd is the notebook's folder, and writes
 * the executed copies (also after a failure, so nothing is lost).
 *
 * @param paths Notebook files or folders (a folder runs every notebook in it).
 * @param options Output folder, per-cell timeout, HTML copy, progress callback.
 * @returns One result per notebook; `ok` is false with the failing cell's index on error.
 * @throws {Error} When a path is bad or no Python environment is set up (one line, with the fix).
 *
 * @example Run the beginner lesson
 * ```ts ignore
 * import { runNotebooks } from "./run_notebooks.ts";
 * const [result] = await runNotebooks(["notebooks/00-first-time-beginner"], { out: "out" });
 * if (!result.ok) console.error(result.error?.message);
 * ```
 */
export async function runNotebooks(
  paths: string[],
  options: RunNotebooksOptions = {},
): Promise<NotebookResult[]> {
  const notebooks = collectNotebooks(paths).map((p) => Deno.realPathSync(p));
  const python = pythonPath();
  const out = options.out ?? "out";
  Deno.mkdirSync(out, { recursive: true });
  const sources: Record<string, string> = {};
  const tmp = options.params && Object.keys(options.params).length
    ? Deno.makeTempDirSync({ prefix: "ince-params-" })
    : null;
  if (tmp) {
    for (const [i, path] of notebooks.entries()) {
      sources[path] = `${tmp}/${i}.ipynb`;
      writeNotebook(sources[path], injectParameters(readNotebook(path), options.params!, { where: path }));
    }
  }
  const job = {
    notebooks,
    sources,
    out: Deno.realPathSync(out),
    timeout: options.timeout === 0 ? null : options.timeout ?? 600,
    html: options.html ?? false,
    settle: options.settle ?? true,
    pending_max_ms: options.pendingMaxMs ?? 5000,
    kernel: INCE_KERNEL,
  };
  const runner = spawnJsonLines({
    command: python,
    args: [`${projectRoot()}/lib/notebook/python/run_notebooks.py`],
    job,
    schema: RunEventSchema,
    where: "the notebook runner",
    env: options.env,
  });
  const results: NotebookResult[] = [];
  for await (const event of runner.lines) {
    options.onEvent?.(event);
    if (event.event === "done") {
      const { event: _, ...result } = event;
      results.push(result);
    }
  }
  const { status, stderrTail } = await runner.finished;
  if (tmp) Deno.removeSync(tmp, { recursive: true });
  if (results.length !== notebooks.length) {
    throw new Error(
      `The notebook runner stopped early (exit ${status.code}) after ${results.length} of ${notebooks.length} notebooks:\n` +
        stderrTail.slice(-10).join("\n"),
    );
  }
  return results;
}

/**
 * A one-line description of a failed notebook: file, 1-based cell number, error.
 *
 * @param result A failed result from {@linkcode runNotebooks}.
 * @returns e.g. `lesson.ipynb: cell 4 (index 3) failed: Error: boom (source: throw new Error("boom"))`, or
 *   `lesson.ipynb: kernel died in cell 2 (index 1) (exit code 1) (source: Deno.exit(1))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeFailure } from "./run_notebooks.ts";
 * const line = describeFailure({
 *   notebook: "a.ipynb", ok: false, out: "out/a.ipynb", html: null,
 *   error: { index: 2, kind: "error", ename: "Error", evalue: "boom", message: "boom" },
 * });
 * assert.equal(line, "a.ipynb: cell 3 (index 2) failed: Error: boom");
 * const died = describeFailure({
 *   notebook: "b.ipynb", ok: false, out: "out/b.ipynb", html: null,
 *   error: { index: 1, kind: "dead-kernel", ename: "DeadKernelError", evalue: "Kernel died",
 *     message: "kernel died in cell 2 (exit code 1)", source: "Deno.exit(1)" },
 * });
 * assert.equal(died, "b.ipynb: kernel died in cell 2 (index 1) (exit code 1) (source: Deno.exit(1))");
 * ```
 */
export function describeFailure(result: NotebookResult): string {
  const e = result.error;
  if (!e) return `${result.notebook}: ok`;
  const where = e.index === null ? "before any cell ran" : `cell ${e.index + 1} (index ${e.index})`;
  const src = e.source ? ` (source: ${e.source.slice(0, 80)})` : "";
  if (e.kind === "dead-kernel") {
    const code = e.message.match(/\(exit code -?\d+\)/)?.[0];
    return `${result.notebook}: kernel died ${e.index === null ? where : `in ${where}`}${
      code ? ` ${code}` : ""
    }${src}`;
  }
  const what = e.kind === "timeout"
    ? `timed out: ${e.evalue}`
    : e.kind === "kernel"
    ? `the kernel failed: ${e.message}`
    : `failed: ${e.ename}: ${e.message}`;
  return `${result.notebook}: ${where} ${what}${src}`;
}
