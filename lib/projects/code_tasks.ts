/**
 * Lesson 05b's project: a code assistant judged by running its code. The task table and prompts
 * (`data/scripts/make_code_tasks.py`), what a completion's code is, why a program failed, and the
 * evaluation of many completions against hidden tests in the sandbox of `lib/eval` (no permissions, a
 * time limit), with identical programs run once.
 *
 * @module
 */
import { type CodeTestResult, runCodeTests, type SandboxOptions } from "../eval/sandbox.ts";

/** One task of the table: a function to write, and how it is checked. */
export interface CodeTask {
  /** The function's name (also the task's id). */
  task: string;
  /** `name(a: T): R`. */
  signature: string;
  /** What it does, third person: "returns …". */
  description: string;
  /** A reference solution, one line of TypeScript. */
  solution: string;
  /** Hidden unit tests: `if (!(cond)) throw new Error(…);` lines, run after the code. */
  tests: string;
  /** A plausible wrong solution the tests reject. */
  wrong: string;
  /** "train": its prompts are trained on; "heldout": never in training, in any phrasing. */
  split: "train" | "heldout";
  /** The solution's length in the built-in model's tokens. */
  solutionTokens: number;
}

/** Which question an evaluation prompt asks. */
export type CodePromptKind = "train" | "seen" | "paraphrase" | "unseen";

/** One prompt row (alpaca shape, with the task it asks for). */
export interface CodePrompt {
  id: string;
  task: string;
  /** train: a training row; seen: a train task in a training phrasing; paraphrase: a train task in a new
   * phrasing; unseen: a held-out task. */
  kind: CodePromptKind;
  instruction: string;
  /** The reference solution. */
  output: string;
  /** Prompt + answer in the built-in model's chat template, in its tokens. */
  tokens: number;
}

function _readJsonl<T>(path: string): T[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l.trim()).map((l, i) => {
    try {
      return JSON.parse(l) as T;
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not valid JSON (${(e as Error).message}).`);
    }
  });
}

/**
 * Reads the task table.
 *
 * @param path `code-tasks.json`.
 * @returns The tasks by name.
 * @throws {Error} When a row is not JSON or lacks a field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCodeTasks } from "./code_tasks.ts";
 * const tasks = loadCodeTasks("data/datasets/code-tasks.json");
 * assert.equal(tasks.get("double")?.signature, "double(n: number): number");
 * ```
 */
export function loadCodeTasks(path: string): Map<string, CodeTask> {
  const tasks = new Map<string, CodeTask>();
  let rows: CodeTask[];
  try {
    rows = JSON.parse(Deno.readTextFileSync(path));
  } catch (e) {
    throw new Error(
      `${path}: not a JSON array of tasks (${(e as Error).message}); run data/scripts/make_code_tasks.py.`,
    );
  }
  for (const t of rows) {
    for (const f of ["task", "signature", "solution", "tests", "wrong", "split"] as const) {
      if (typeof t[f] !== "string") throw new Error(`${path}: task ${t.task ?? "?"} has no "${f}".`);
    }
    tasks.set(t.task, t);
  }
  return tasks;
}

/**
 * Reads prompt rows (`code-train.jsonl`, `code-heldout.jsonl`), optionally of some kinds only.
 *
 * @param path The file.
 * @param kinds Keep only these kinds (default: all).
 * @returns The rows, in file order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCodePrompts } from "./code_tasks.ts";
 * const unseen = loadCodePrompts("data/datasets/code-heldout.jsonl", ["unseen"]);
 * assert.ok(unseen.every((p) => p.kind === "unseen"));
 * ```
 */
export function loadCodePrompts(path: string, kinds?: readonly CodePromptKind[]): CodePrompt[] {
  const rows = _readJsonl<CodePrompt>(path);
  return kinds ? rows.filter((r) => kinds.includes(r.kind)) : rows;
}

/**
 * The code in a completion: the text without Markdown code fences, trimmed. Nothing else is repaired —
 * what the model wrote is what runs.
 *
 * @param completion The model's answer.
 * @returns The program text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { extractCode } from "./code_tasks.ts";
 * const fence = "`".repeat(3);
 * assert.equal(extractCode(`${fence}ts\nfunction f() {}\n${fence}`), "function f() {}");
 * assert.equal(extractCode("  function f() {} "), "function f() {}");
 * ```
 */
export function extractCode(completion: string): string {
  const fenced = completion.match(/```[a-zA-Z]*\n([\s\S]*?)(```|$)/);
  return (fenced ? fenced[1] : completion).trim();
}

/** Why a program passed or failed, from most to least broken. */
export const CODE_OUTCOMES = [
  "syntax error",
  "no such function",
  "runtime error",
  "timeout",
  "wrong answer",
  "passed",
] as const;
/** One of {@linkcode CODE_OUTCOMES}. */
export type CodeOutcome = (typeof CODE_OUTCOMES)[number];

/**
 * Sorts a sandbox result into an outcome: the program did not parse ("syntax error"), did not define the
 * function asked for ("no such function"), crashed in another way ("runtime error"), ran out of time
 * ("timeout"), ran but a test's check failed ("wrong answer": the tests' errors say "… should be …"), or
 * passed.
 *
 * @param result What `runCodeTests` returned.
 * @param functionName The function the tests call.
 * @returns The outcome.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { classifyOutcome } from "./code_tasks.ts";
 * const failed = (error: string) => ({ passed: false, timedOut: false, ms: 1, error });
 * assert.equal(classifyOutcome(failed("error: SyntaxError: Expression expected"), "f"), "syntax error");
 * assert.equal(classifyOutcome(failed("error: Uncaught (in promise) ReferenceError: f is not defined"), "f"), "no such function");
 * assert.equal(classifyOutcome(failed("error: Uncaught (in promise) Error: f(1) should be 2"), "f"), "wrong answer");
 * ```
 */
export function classifyOutcome(result: CodeTestResult, functionName: string): CodeOutcome {
  if (result.passed) return "passed";
  if (result.timedOut) return "timeout";
  const error = result.error ?? "";
  if (/^error: SyntaxError/.test(error) || /could not be parsed/.test(error)) return "syntax error";
  if (error.includes(`ReferenceError: ${functionName} is not defined`)) return "no such function";
  if (/Uncaught (\(in promise\) )?Error: .* should be /.test(error)) return "wrong answer";
  return "runtime error";
}

/** Options for {@linkcode runCompletions}. */
export interface RunCompletionsOptions extends SandboxOptions {
  /** Sandboxed processes at once (default 2). */
  concurrency?: number;
  /** Results of programs already run, by program + tests; shared between calls so nothing runs twice. */
  cache?: Map<string, CodeOutcome>;
}

/** One prompt's samples, judged. */
export interface CompletionResult {
  task: string;
  kind: CodePromptKind;
  /** Samples. */
  n: number;
  /** Samples that passed. */
  c: number;
  /** Each sample's outcome. */
  outcomes: CodeOutcome[];
}

/**
 * Runs every sample of every prompt against its task's hidden tests, each program alone in the sandbox
 * (`runCodeTests`: a Deno process with no permissions, killed at the time limit). Identical programs of
 * the same task run once (greedy decoding and low temperatures repeat themselves).
 *
 * @param prompts The prompts (their `task` picks the tests).
 * @param samples `samples[i]` are the completions for `prompts[i]` (as `generateSamples` returns them).
 * @param tasks The task table.
 * @param options Time limit, memory, concurrency, a shared cache.
 * @returns One result per prompt.
 * @throws {Error} When the lengths differ or a prompt names an unknown task.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadCodeTasks, runCompletions } from "./code_tasks.ts";
 * const tasks = loadCodeTasks("data/datasets/code-tasks.json");
 * const [r] = await runCompletions([{ task: "double", kind: "unseen" }], [[tasks.get("double")!.solution, "oops("]], tasks);
 * assert.deepEqual(r.outcomes, ["passed", "syntax error"]);
 * ```
 */
export async function runCompletions(
  prompts: readonly Pick<CodePrompt, "task" | "kind">[],
  samples: readonly (readonly string[])[],
  tasks: ReadonlyMap<string, CodeTask>,
  options: RunCompletionsOptions = {},
): Promise<CompletionResult[]> {
  if (prompts.length !== samples.length) {
    throw new Error(
      `runCompletions: ${prompts.length} prompts but ${samples.length} sample lists; pass one list per prompt.`,
    );
  }
  const cache = options.cache ?? new Map<string, CodeOutcome>();
  const jobs: { key: string; code: string; task: CodeTask }[] = [];
  const keys = prompts.map((p, i) => {
    const task = tasks.get(p.task);
    if (!task) {
      throw new Error(`runCompletions: prompt ${i} asks for unknown task "${p.task}"; check the task table.`);
    }
    return samples[i].map((s) => {
      const code = extractCode(s);
      const key = `${task.task}\u0000${code}`;
      if (!cache.has(key) && !jobs.some((j) => j.key === key)) jobs.push({ key, code, task });
      return key;
    });
  });
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const { key, code, task } = jobs[next++];
      const result = await runCodeTests(code, task.tests, options);
      cache.set(key, classifyOutcome(result, task.task));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 2) }, worker));
  return prompts.map((p, i) => {
    const outcomes = keys[i].map((k) => cache.get(k)!);
    return {
      task: p.task,
      kind: p.kind,
      n: outcomes.length,
      c: outcomes.filter((o) => o === "passed").length,
      outcomes,
    };
  });
}
