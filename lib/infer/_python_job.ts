/**
 * How `lib/infer` talks to Python, in one place: spawn the project's interpreter on a script in
 * `python/`, send one JSON job on stdin, read the JSON answer from the last stdout line, and turn a
 * failure into a one-line error. The scripts print their own messages (what failed, what to do) as the
 * last stderr line.
 *
 * @module
 */
import { projectRoot, pythonPath } from "../env/paths.ts";
export { absPath, modelArg } from "../util/fs.ts";

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
