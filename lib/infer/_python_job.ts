/**
 * How `lib/infer` talks to Python, in one place: spawn the project's interpreter on a script in
 * `python/`, send one JSON job on stdin, read the JSON answer from the last stdout line, and turn a
 * failure into a one-line error. The scripts print their own messages (what failed, what to do) as the
 * last stderr line.
 *
 * @module
 */
import { projectRoot, pythonPath } from "../env/paths.ts";
import { exists } from "../util/fs.ts";

/**
 * A path made absolute against the current folder (a notebook's cwd is its own folder; the Python
 * process needs the full path).
 *
 * @param path A path.
 * @returns The absolute path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { absPath } from "./_python_job.ts";
 * assert.equal(absPath("/tmp/x"), "/tmp/x");
 * assert.equal(absPath("runs/a"), `${Deno.cwd()}/runs/a`);
 * ```
 */
export function absPath(path: string): string {
  return path.startsWith("/") ? path : `${Deno.cwd()}/${path}`;
}

/**
 * A model argument for Python: an existing folder made absolute; anything else is a Hub id, passed as
 * it is (transformers finds it in the shared cache).
 *
 * @param model A model folder or Hub id.
 * @returns What to hand to `from_pretrained`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelArg } from "./_python_job.ts";
 * assert.equal(modelArg("Qwen/Qwen2.5-0.5B-Instruct"), "Qwen/Qwen2.5-0.5B-Instruct");
 * assert.equal(modelArg("."), `${Deno.cwd()}/.`);
 * ```
 */
export function modelArg(model: string): string {
  return exists(model) ? absPath(model) : model;
}

/**
 * Runs `lib/infer/python/<script>` with a JSON job on stdin and returns its JSON answer.
 *
 * @param script The script's file name in `lib/infer/python/`.
 * @param job The job, sent as JSON.
 * @param what What is being done, for the error (e.g. `"Generation with data/models/ince-tiny"`).
 * @returns The parsed last line of the script's stdout.
 * @throws {Error} `<what> failed: <the last stderr line>` when the script fails or answers nothing.
 *
 * @example
 * ```ts ignore
 * import { runPythonJob } from "./_python_job.ts";
 * const { answers } = await runPythonJob<{ answers: string[] }>("generate.py", job, "Generation with m");
 * ```
 */
export async function runPythonJob<T>(script: string, job: unknown, what: string): Promise<T> {
  const child = new Deno.Command(pythonPath(), {
    args: [`${projectRoot()}/lib/infer/python/${script}`],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(JSON.stringify(job)));
  await w.close();
  const out = await child.output();
  const last = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim().split("\n").at(-1) ?? "";
  if (!out.success) throw new Error(`${what} failed: ${last(out.stderr)}`);
  try {
    return JSON.parse(last(out.stdout)) as T;
  } catch {
    throw new Error(`${what} failed: ${script} gave no JSON answer (last log line: ${last(out.stderr)}).`);
  }
}
