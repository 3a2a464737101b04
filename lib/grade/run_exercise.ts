/**
 * One exercise in its own Deno process, against tests the student's code cannot read, change or fake.
 *
 * The process gets four modules, evaluated in this order:
 * 1. `prelude.ts` loads `node:assert` and keeps its own way to report (bound before anything else runs);
 * 2. the lesson's imports for the tests, then the student's imports (the library, trusted);
 * 3. `lock.ts`: {@linkcode lockdown} freezes the built-ins and every module namespace imported so far;
 * 4. the student's code, then the tests, whose result line carries a per-run secret (a UUID), and the
 *    parent reads only that line: a forged line, a thrown object that reads "passed", an early exit do
 *    not score.
 *
 * The process may read only `allowRead` (never the folder of these files, nor the lesson); it has no
 * write, net, env, run, sys or FFI permission, no code from strings (`eval`, `new Function`, and the
 * runtime's internal evaluator is removed by the lock), a memory limit (`memory_limit.ts`: V8's heap
 * limit, and on Linux a data-segment rlimit that counts array buffers too) and a time limit.
 *
 * @module
 */
import { realpathSync } from "node:fs";
import type { ImportDecl } from "../notebook/extract_code.ts";
import { killAfter } from "../util/kill_after.ts";
import { childEnv, strayImport } from "./import_rules.ts";
import { memoryLimited } from "./memory_limit.ts";
import { explainFailure } from "./explain_failure.ts";

/** The code of one graded run. */
export interface ExerciseModules {
  /** The student's module: its checked imports (absolute), the exercise cell without them, its names. */
  student: { imports: ImportDecl[]; body: string; names: string[] };
  /** The tests: the lesson's imports (absolute) and the tests cells' code without them. */
  tests: { imports: ImportDecl[]; body: string };
}

/** Limits and paths of a graded run. */
export interface RunLimits {
  /** The project root (deno.json, lib/). */
  root: string;
  /** The lesson's folder: the working directory. */
  fromDir: string;
  timeoutSeconds: number;
  /** Memory for the graded code in MB: V8's heap limit, and with Deno's own share the process's limit. */
  memoryMb: number;
  /** Folders the student's code may read. */
  allowRead: string[];
}

/** What a graded run found. */
export interface ExerciseOutcome {
  passed: boolean;
  /** "passed", or why not, one line. */
  message: string;
}

const _prelude = (lockdown: string) =>
  `import ${JSON.stringify(lockdown)}; // first: it notes which globals are the runtime's own
import "node:assert";
import "node:assert/strict";
const write = Deno.stdout.writeSync.bind(Deno.stdout);
const encoder = new TextEncoder();
const encode = encoder.encode.bind(encoder);
const stringify = JSON.stringify;
const exit = Deno.exit;
const ErrorClass = Error;
function report(nonce: string, passed: boolean, message: string): never {
  write(encode("\\n" + stringify({ [nonce]: { passed, message } }) + "\\n"));
  return exit(0);
}
export function pass(nonce: string): never {
  return report(nonce, true, "passed");
}
export function fail(nonce: string, e: unknown): never {
  let message = "Threw an error whose name or message cannot be read";
  try {
    message = e instanceof ErrorClass
      ? \`\${e.name}: \${e.message}\`
      : typeof e === "string"
      ? \`Threw a non-Error value: \${e}\`
      : \`Threw a non-Error value (\${typeof e})\`;
  } catch { /* a getter that throws */ }
  return report(nonce, false, typeof message === "string" ? message.slice(0, 2000) : "Threw an unreadable error");
}
`;

function _lockModule(imports: ImportDecl[]): string {
  const specs = [
    ...new Set([
      "node:assert",
      "node:assert/strict",
      // The library's schemas are zod objects, which memoize into themselves on first use (zod 4): zod is locked
      // as a package (its functions and prototypes), so its instances stay usable even when a lesson's imports
      // do not name zod.
      "zod",
      ...imports.filter((i) => !/^import\s+type\b/.test(i.text) && !/\b(with|assert)\s*\{/.test(i.text))
        .map((i) => i.specifier),
    ]),
  ];
  const isPackage = (s: string) => !s.startsWith("file:") && !s.startsWith("node:");
  const names = (pick: boolean) => specs.flatMap((s, i) => isPackage(s) === pick ? [`__lock${i}`] : []);
  const lockdown = new URL("./lockdown.ts", import.meta.url).href;
  return `import { lockdown } from ${JSON.stringify(lockdown)};\n` +
    specs.map((s, i) => `import * as __lock${i} from ${JSON.stringify(s)};\n`).join("") +
    `lockdown([${names(false).join(", ")}], { packages: [${names(true).join(", ")}] });\n`;
}

function _covers(folder: string, path: string): boolean {
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  const f = real(folder).replace(/\/+$/, ""), p = real(path);
  return p === f || p.startsWith(`${f}/`) || f === "";
}

/**
 * Refuses a readable folder that holds `path` (the lesson, the grading folder): hidden tests must stay
 * out of reach of graded code.
 *
 * @param allowRead The folders graded code may read.
 * @param path What it must not read.
 * @throws {Error} When a folder holds the path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertUnreadable } from "./run_exercise.ts";
 * assertUnreadable(["/srv/data"], "/srv/lessons/a.ipynb");
 * assert.throws(() => assertUnreadable(["/srv"], "/srv/lessons/a.ipynb"), /holds \/srv\/lessons\/a.ipynb/);
 * ```
 */
export function assertUnreadable(allowRead: string[], path: string): void {
  const bad = allowRead.find((f) => _covers(f, path));
  if (bad !== undefined) {
    throw new Error(
      `Grading: the readable folder "${bad}" holds ${path}, where hidden tests are; allow only folders of data`,
    );
  }
}

/** Reads a stream to its end; returns the secret-keyed result line, if any. Bounded memory. */
async function _result(stream: ReadableStream<Uint8Array>, nonce: string): Promise<ExerciseOutcome | null> {
  const decoder = new TextDecoder(), key = `{"${nonce}":`;
  let buffer = "", found: ExerciseOutcome | null = null;
  const take = (line: string) => {
    const at = line.indexOf(key);
    if (found || at < 0) return;
    try {
      const v = JSON.parse(line.slice(at))[nonce];
      if (typeof v?.passed === "boolean" && typeof v.message === "string") found = v;
    } catch { /* not ours */ }
  };
  for await (const chunk of stream) {
    if (found) continue; // drain, so the child never blocks on a full pipe
    buffer += decoder.decode(chunk, { stream: true });
    const lines = buffer.split("\n");
    buffer = lines.pop()!.slice(-(1 << 20));
    lines.forEach(take);
  }
  take(buffer);
  return found;
}

/** The first and last 16 KB of a stream, as text. */
async function _ends(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder(), max = 1 << 14;
  let head = "", tail = "";
  for await (const chunk of stream) {
    const text = decoder.decode(chunk, { stream: true });
    if (head.length < max) head += text;
    else tail = (tail + text).slice(-max);
  }
  return head + tail;
}

function _denoArgs(harness: string, limits: RunLimits): string[] {
  const read = limits.allowRead.length ? [`--allow-read=${limits.allowRead.join(",")}`] : [];
  const deno = [
    Deno.execPath(),
    "run",
    "--no-prompt",
    "--no-check",
    "--config",
    `${limits.root}/deno.json`,
    ...read,
    `--v8-flags=--disallow-code-generation-from-strings,--max-old-space-size=${limits.memoryMb}`,
    harness,
  ];
  return memoryLimited(deno, limits.memoryMb);
}

/**
 * Runs one exercise: writes the modules to a fresh folder, checks the student module's imports with
 * Deno, runs it with the tests under the sandbox's limits, and reads the result.
 *
 * @param modules The student's module and the tests.
 * @param limits Paths, time and memory limits.
 * @returns Passed or not, and why.
 * @throws {Error} When `allowRead` would let graded code read the grading folder.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runExercise } from "./run_exercise.ts";
 * import { projectRoot } from "../env/paths.ts";
 * const assertImport = { text: 'import assert from "node:assert/strict";', specifier: "node:assert/strict" };
 * const limits = { root: projectRoot(), fromDir: ".", timeoutSeconds: 30, memoryMb: 1024, allowRead: [] };
 * const run = (body: string) =>
 *   runExercise({
 *     student: { imports: [], body, names: ["double"] },
 *     tests: { imports: [assertImport], body: "assert.ok(Math.abs(double(2) - 4) < 1e-9);" },
 *   }, limits);
 * assert.deepEqual(await run("function double(x: number) { return 2 * x; }"), { passed: true, message: "passed" });
 * assert.match((await run("Math.abs = () => 0;\nfunction double(x: number) { return x; }")).message, /^Changed something read-only/);
 * ```
 */
export async function runExercise(modules: ExerciseModules, limits: RunLimits): Promise<ExerciseOutcome> {
  const dir = Deno.makeTempDirSync({ prefix: "ince-grade-" });
  const clean = (m: string) =>
    m.replace(/(file:\/\/)?[^\s"'`]*ince-grade-[^/\s]+\//g, "").replace(/\s+/g, " ").trim().slice(0, 400);
  const failed = (m: string): ExerciseOutcome => ({ passed: false, message: clean(m) });
  try {
    assertUnreadable(limits.allowRead, dir);
    const { student, tests } = modules;
    const head = student.imports.map((i) => i.text).join("\n");
    Deno.writeTextFileSync(`${dir}/prelude.ts`, _prelude(new URL("./lockdown.ts", import.meta.url).href));
    Deno.writeTextFileSync(`${dir}/lock.ts`, _lockModule([...tests.imports, ...student.imports]));
    Deno.writeTextFileSync(
      `${dir}/student.ts`,
      `${head}\nimport "./lock.ts";\n${student.body}\nexport { ${student.names.join(", ")} };\n`,
    );
    const stray = await strayImport(`${dir}/student.ts`, head.split("\n").length + 1, limits.root);
    if (stray) return failed(`Not run: the exercise cell ${stray}`);
    const nonce = crypto.randomUUID();
    Deno.writeTextFileSync(
      `${dir}/harness.ts`,
      `import { fail as __fail, pass as __pass } from "./prelude.ts";\n` +
        `${tests.imports.map((i) => i.text).join("\n")}\n` +
        `import { ${student.names.join(", ")} } from "./student.ts";\n` +
        `try {\n${tests.body}\n} catch (e) {\n  __fail("${nonce}", e);\n}\n__pass("${nonce}");\n`,
    );
    const [cmd, ...args] = _denoArgs(`${dir}/harness.ts`, limits);
    const child = new Deno.Command(cmd, {
      args,
      cwd: limits.fromDir,
      clearEnv: true,
      env: childEnv(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = killAfter(child, limits.timeoutSeconds * 1000);
    const [result, err, status] = await Promise.all([
      _result(child.stdout, nonce),
      _ends(child.stderr),
      child.status,
    ]);
    timer.clear();
    if (result) return result.passed ? result : failed(explainFailure(result.message, limits.memoryMb));
    if (timer.timedOut) return failed(`Timed out after ${limits.timeoutSeconds} s (an endless loop?).`);
    if (status.code === 125 && !err.trim()) {
      return failed("Not run: could not set the memory limit (ulimit -d).");
    }
    const lines = err.split("\n").map((l) => l.trim());
    const oom = lines.find((l) => /out of memory/i.test(l));
    if (oom) return failed(explainFailure(oom.replace(/^#\s*/, ""), limits.memoryMb));
    const why = (lines.find((l) => l.startsWith("error: ")) ?? lines.filter(Boolean).at(-1) ?? "")
      .replace(/^error:\s*/, "").replace(/^Uncaught (\(in promise\) )?/, "");
    if (!why) return failed("The exercise did not finish: it exited early");
    const explained = explainFailure(why, limits.memoryMb);
    return failed(explained === why ? `The exercise did not finish: ${why}` : explained);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}
