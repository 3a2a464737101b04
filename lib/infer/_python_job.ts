/**
 * How `lib/infer` talks to Python, in one place: spawn the project's interpreter on a script in
 * `python/`, send one JSON job on stdin, read the JSON answer from the last stdout line, and turn a
 * failure into a one-line error. The scripts print their own messages (what failed, what to do) as the
 * last stderr line.
 *
 * @module
 */
import { z } from "zod";
import { projectRoot, pythonPath } from "../env/paths.ts";
import { spawnJsonLines } from "../util/json_lines_process.ts";
import { absPath } from "../util/fs.ts";
import { modelArg } from "../util/model_source.ts";
export { absPath, modelArg };

/**
 * The model part of a job, as every script reads it: the model as Python loads it (a local folder made
 * absolute, or a Hub id) and the adapter folder (absolute) or null.
 *
 * @param model A model folder or Hub id.
 * @param adapter An adapter folder.
 * @returns `{ model, adapter }`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelJob } from "./_python_job.ts";
 * assert.deepEqual(modelJob("Qwen/Qwen2.5-0.5B"), { model: "Qwen/Qwen2.5-0.5B", adapter: null });
 * assert.deepEqual(modelJob("/m", "runs/r/adapter"), { model: "/m", adapter: `${Deno.cwd()}/runs/r/adapter` });
 * ```
 */
export function modelJob(model: string, adapter?: string): { model: string; adapter: string | null } {
  return { model: modelArg(model), adapter: adapter ? absPath(adapter) : null };
}

/** Options for {@linkcode runPythonJob}. */
export interface PythonJobOptions {
  /** The interpreter (default: the project's, {@linkcode pythonPath}). */
  python?: string;
  /** Added to the environment. */
  env?: Record<string, string>;
  /** The working folder (default: this process's). */
  cwd?: string;
}

/**
 * Runs `lib/infer/python/<script>` (or `lib/<script>` when it names a folder, e.g.
 * `deploy/python/convert_gguf.py`) with a JSON job on stdin and returns its JSON answer (the last JSON
 * line of its stdout), checked against the answer's schema. Every script can `from _job import …`.
 *
 * @param script The script's file name in `lib/infer/python/`, or its path under `lib/`.
 * @param job The job, sent as JSON.
 * @param what What is being done, for the error (e.g. `"Generation with data/models/ince-tiny"`).
 * @param schema The answer's zod schema.
 * @param options Another interpreter (e.g. LLaMA-Factory's environment), more environment variables, a cwd.
 * @returns The answer.
 * @throws {Error} `<what> failed: <the last stderr line>` when the script fails, answers nothing, or
 * answers something that does not match the schema.
 *
 * @example
 * ```ts ignore
 * import { z } from "zod";
 * import { runPythonJob } from "./_python_job.ts";
 * const job = { model: "/abs/data/models/ince-tiny", prompts: ["2+2="] };
 * const { answers } = await runPythonJob("generate.py", job, "Generation", z.object({ answers: z.array(z.string()) }));
 * ```
 */
export async function runPythonJob<T>(
  script: string,
  job: unknown,
  what: string,
  schema: z.ZodType<T>,
  options: PythonJobOptions = {},
): Promise<T> {
  const shared = `${projectRoot()}/lib/infer/python`;
  const path = script.includes("/") ? `${projectRoot()}/lib/${script}` : `${shared}/${script}`;
  const pythonPathVar = [shared, Deno.env.get("PYTHONPATH")].filter(Boolean).join(":");
  const p = spawnJsonLines({
    command: options.python ?? pythonPath(),
    args: [path],
    cwd: options.cwd,
    env: { ...options.env, PYTHONPATH: pythonPathVar },
    job,
    schema,
    where: `${script}'s answer`,
    otherLines: "skip",
  });
  let answer: T | undefined;
  let bad: Error | undefined;
  try {
    for await (const line of p.lines) answer = line;
  } catch (e) {
    bad = e as Error; // keep reading the status: a failed script explains itself on stderr
  }
  const { status, stderrTail } = await p.finished.catch(() => ({ status: null, stderrTail: p.stderrTail }));
  const last = stderrTail.at(-1) ?? "";
  if (status && !status.success) throw new Error(`${what} failed: ${last}`);
  if (bad) throw new Error(`${what} failed: ${bad.message}`);
  if (answer === undefined) {
    throw new Error(`${what} failed: ${script} gave no JSON answer (last log line: ${last}).`);
  }
  return answer;
}
