/**
 * Headless notebook execution through the real Jupyter client (nbclient) with our Deno kernel.
 * The Python side (`python/run_notebooks.py`) keeps reading each cell's outputs until the kernel
 * has gone quiet, so no output is lost or lands in the wrong cell.
 *
 * @module
 */
import { projectRoot, pythonPath } from "../env/paths.ts";
import { INCE_KERNEL, readNotebook } from "./read_notebook.ts";
import { injectParameters } from "./inject_parameters.ts";
import { writeNotebook } from "./write_notebook.ts";
import { findNotebooks } from "./find_notebooks.ts";
import { readLines } from "../util/lines.ts";

/** Options for {@linkcode runNotebooks}. */
export interface RunNotebooksOptions {
  /** Folder for the executed copies, written as `<out>/<same file name>` (default `out`). */
  out?: string;
  /** Per-cell time limit in seconds (default 600; 0 = none). */
  timeout?: number;
  /** Also write a static HTML copy next to each executed notebook. */
  html?: boolean;
  /** How long iopub must be quiet after a cell before the next one runs (default 100 ms; 0 = stock nbclient, which loses late outputs). */
  settleMs?: number;
  /** Called with each progress event (start, cell, done) as it arrives. */
  onEvent?: (event: RunEvent) => void;
  /** Extra environment for the runner and kernel. */
  env?: Record<string, string>;
  /** Lesson parameters (`name → value`): a cell setting them is injected after the `parameters` cell. */
  params?: Record<string, string>;
}

/** Why a notebook failed. */
export interface NotebookError {
  /** 0-based index of the cell in `cells`, or null when the kernel never ran a cell. */
  index: number | null;
  kind: "error" | "timeout" | "dead-kernel" | "kernel";
  ename: string;
  evalue: string;
  /** First line of the error. */
  message: string;
  /** First non-empty line of the failing cell's source. */
  source?: string;
}

/** One event from the runner. */
export type RunEvent =
  | { event: "start"; notebook: string; cells: number }
  | { event: "cell"; notebook: string; index: number; seconds: number }
  | NotebookResult & { event: "done" };

/** The outcome for one notebook. */
export interface NotebookResult {
  notebook: string;
  ok: boolean;
  /** The executed copy (written also when a cell failed). */
  out: string;
  html: string | null;
  error: NotebookError | null;
}

/**
 * Expands paths to notebooks ({@linkcode findNotebooks}: folders recursively) and checks each file can
 * run: it is valid nbformat 4 JSON and uses our kernel.
 *
 * @param paths Notebook files or folders.
 * @returns The notebook files, in order.
 * @throws {Error} The first problem, as one line naming the file.
 *
 * @example
 * ```ts ignore
 * const files = collectNotebooks(["notebooks/00-first-time-beginner"]);
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
    settle_ms: options.settleMs ?? 100,
    kernel: INCE_KERNEL,
  };
  const child = new Deno.Command(python, {
    args: [`${projectRoot()}/lib/notebook/python/run_notebooks.py`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
    env: { PYTHONUNBUFFERED: "1", ...options.env },
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify(job)));
  await writer.close();

  const stderrText = new Response(child.stderr).text();
  const results: NotebookResult[] = [];
  for await (const line of readLines(child.stdout)) {
    const event = JSON.parse(line) as RunEvent;
    options.onEvent?.(event);
    if (event.event === "done") {
      const { event: _, ...result } = event;
      results.push(result);
    }
  }
  const status = await child.status;
  const stderr = await stderrText;
  if (tmp) Deno.removeSync(tmp, { recursive: true });
  if (results.length !== notebooks.length) {
    throw new Error(
      `The notebook runner stopped early (exit ${status.code}) after ${results.length} of ${notebooks.length} notebooks:\n` +
        stderr.trim().split("\n").slice(-10).join("\n"),
    );
  }
  return results;
}

/**
 * A one-line description of a failed notebook: file, 1-based cell number, error.
 *
 * @param result A failed result from {@linkcode runNotebooks}.
 * @returns e.g. `lesson.ipynb: cell 4 failed: Error: boom (source: throw new Error("boom"))`.
 *
 * @example
 * ```ts
 * import { describeFailure } from "./run_notebooks.ts";
 * const line = describeFailure({
 *   notebook: "a.ipynb", ok: false, out: "out/a.ipynb", html: null,
 *   error: { index: 2, kind: "error", ename: "Error", evalue: "boom", message: "boom" },
 * });
 * console.log(line); // "a.ipynb: cell 3 (index 2) failed: Error: boom"
 * ```
 */
export function describeFailure(result: NotebookResult): string {
  const e = result.error;
  if (!e) return `${result.notebook}: ok`;
  const where = e.index === null ? "before any cell ran" : `cell ${e.index + 1} (index ${e.index})`;
  const what = e.kind === "timeout"
    ? `timed out: ${e.evalue}`
    : e.kind === "kernel"
    ? `the kernel failed: ${e.message}`
    : e.kind === "dead-kernel"
    ? "the kernel died"
    : `failed: ${e.ename}: ${e.message}`;
  const src = e.source ? ` (source: ${e.source.slice(0, 80)})` : "";
  return `${result.notebook}: ${where} ${what}${src}`;
}
