/**
 * Grading a notebook: each exercise cell of the student's notebook runs in its own Deno process with
 * narrow permissions (read only `data/`, no net, env, run, write or FFI; no code from strings; a time
 * limit) against the tests of the lesson — visible and hidden — which the student's code cannot read.
 *
 * An exercise may forbid library functions (`metadata.ince.forbid` in the lesson, e.g. the oracle of
 * its hidden tests). Three walls keep them out of the student's code: the cell may not name one or
 * import one under any name or path, nor a namespace that holds one (checked by value, see
 * `forbid.ts`); the student's module gets the notebook's imports without them; and Deno itself lists
 * the module's imports (`deno info`), so an import the grader did not read is refused.
 *
 * Over 300 lines because the sandbox's walls (prelude, permissions, import checks) are audited in one place.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { projectRoot } from "../env/paths.ts";
import { type Notebook, readNotebook } from "../notebook/read_notebook.ts";
import { cellSource, cellTags, exerciseMeta } from "../notebook/cells.ts";
import { cellModule, declaredNames, maskCode, splitImports } from "../notebook/extract_code.ts";
import { checkForbidden } from "./forbid.ts";
import { killAfter } from "../util/kill_after.ts";

/** The result of one exercise. */
export interface ExerciseResult {
  id: string;
  points: number;
  max: number;
  /** "passed", or why not (the failing assertion, "timed out", a permission error, a missing cell). */
  message: string;
}

/** The result of grading one notebook; the JSON `deno task grade --json` writes. */
export interface GradeReport {
  notebook: string;
  points: number;
  max: number;
  exercises: ExerciseResult[];
}

/** Options for {@linkcode gradeNotebook}. */
export interface GradeOptions {
  /** The lesson whose tests (with hidden ones) grade the notebook (default: the notebook itself). */
  source?: string;
  /** Time limit per exercise in seconds (default 30). */
  timeoutSeconds?: number;
  /** Folders the student's code may read (default: the project's `data/`). */
  allowRead?: string[];
}

interface _Exercise {
  id: string;
  points: number;
  tests: string[];
  /** Library exports the exercise code may not use (from the lesson, not the student's copy). */
  forbid: string[];
}

function _exercises(nb: Notebook): _Exercise[] {
  const out: _Exercise[] = [];
  for (const cell of nb.cells) {
    const tags = cellTags(cell), meta = exerciseMeta(cell);
    if (tags.includes("exercise") && meta.exercise) {
      out.push({ id: meta.exercise, points: meta.points ?? 1, tests: [], forbid: meta.forbid ?? [] });
    } else if (tags.includes("tests") && meta.exercise) {
      out.find((e) => e.id === meta.exercise)?.tests.push(cellSource(cell));
    }
  }
  return out;
}

const _PRELUDE = `import assert from "node:assert";
import strict from "node:assert/strict";
const seen = new Set<unknown>();
function deepFreeze(o: unknown): void {
  if ((typeof o !== "object" && typeof o !== "function") || o === null || seen.has(o)) return;
  seen.add(o);
  Object.freeze(o);
  for (const key of Reflect.ownKeys(o as object)) {
    const d = Object.getOwnPropertyDescriptor(o as object, key);
    if (d && "value" in d) deepFreeze(d.value);
  }
}
deepFreeze(assert);
deepFreeze(strict);
const write = Deno.stdout.writeSync.bind(Deno.stdout);
const encoder = new TextEncoder();
const encode = encoder.encode.bind(encoder);
const stringify = JSON.stringify;
export function report(nonce: string, message: string): void {
  write(encode(stringify({ [nonce]: message }) + "\\n"));
}
`;

/** Why a student's cell may not be run, or null. */
function _sandboxRefusal(code: string, imports: string[], root: string): string | null {
  if (/\bimport\s*\(/.test(code) || /\bimport\s*\(/.test(maskCode(code))) {
    return "uses dynamic import(), which graded code may not";
  }
  if (/\bnew\s+Worker\b/.test(code)) return "starts a Worker, which graded code may not";
  const map = Object.keys(JSON.parse(Deno.readTextFileSync(`${root}/deno.json`)).imports ?? {});
  const lib = pathToFileURL(`${root}/lib/`).href;
  for (const s of imports) {
    const ok = s.startsWith(lib) || s === "node:assert" || s === "node:assert/strict" || map.includes(s);
    if (!ok) {
      return `imports "${s}": graded code may import only ../../lib/…, node:assert and the project's packages`;
    }
  }
  return null;
}

/** Only what Deno itself needs to find its cache; the student's code cannot read env anyway. */
function _childEnv(): Record<string, string> {
  return Object.fromEntries(
    [["NO_COLOR", "1"], ...["PATH", "HOME", "DENO_DIR"].map((k) => [k, Deno.env.get(k)])]
      .filter((e): e is [string, string] => Boolean(e[1])),
  );
}

/**
 * Why the module may not run because of an import that Deno finds after its first `headerLines` lines
 * (the imports the grader wrote and checked), or null. Deno's own parser sees every form the grader's
 * does not read: `import{a}from"…"`, `export … from`, a `data:` URL, an import in the middle of a line.
 */
async function _strayImport(file: string, headerLines: number, root: string): Promise<string | null> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", "--config", `${root}/deno.json`, file],
    clearEnv: true,
    env: _childEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  type Span = { span: { start: { line: number } } };
  type Info = {
    modules: { specifier: string; dependencies?: { specifier: string; code?: Span; type?: Span }[] }[];
  };
  let info: Info;
  try {
    info = JSON.parse(new TextDecoder().decode(out.stdout));
  } catch {
    const why = new TextDecoder().decode(out.stderr).trim().split("\n")[0];
    return `could not be read by deno info (${why.slice(0, 200)})`;
  }
  const url = pathToFileURL(file).href;
  const deps = info.modules.find((m) => m.specifier === url)?.dependencies ?? [];
  const stray = deps.find((d) => ((d.code ?? d.type)?.span.start.line ?? Infinity) >= headerLines);
  return stray
    ? `imports "${
      stray.specifier.slice(0, 80)
    }" in a way the grader cannot read; write each import on a line of its own: import { a } from "…";`
    : null;
}

async function _runExercise(
  student: string,
  exercise: _Exercise,
  imports: { student: string[]; source: string[] },
  options: { fromDir: string; timeoutSeconds: number; allowRead: string[]; root: string },
): Promise<string> {
  const dir = Deno.makeTempDirSync({ prefix: "ince-grade-" });
  try {
    // The student's module: the imports of the student's cells, then the exercise cell.
    const mod = cellModule([[0, student]], { fromDir: options.fromDir, importSources: imports.student });
    const bad = _sandboxRefusal(student, mod.imports.map((i) => i.specifier), options.root);
    if (bad) return `Not run: the exercise cell ${bad}.`;
    let allowed = mod.imports;
    if (exercise.forbid.length) {
      const verdict = await checkForbidden(student, {
        id: exercise.id,
        forbid: exercise.forbid,
        imports: mod.imports,
        fromDir: options.fromDir,
        root: options.root,
      });
      if (verdict.refusal) return verdict.refusal;
      allowed = verdict.imports;
    }
    const { body: studentBody } = splitImports(student);
    const names = declaredNames(studentBody);
    const studentHead = allowed.map((i) => i.text).join("\n");
    Deno.writeTextFileSync(
      `${dir}/student.ts`,
      `${studentHead}\n${studentBody}\nexport { ${names.join(", ")} };\n`,
    );
    const stray = await _strayImport(`${dir}/student.ts`, studentHead.split("\n").length, options.root);
    if (stray) return `Not run: the exercise cell ${stray}`;
    const nonce = crypto.randomUUID();
    // The tests (visible and hidden) come from the lesson, with the lesson's imports.
    const tests = cellModule(exercise.tests.map((t, i) => [i, t] as [number, string]), {
      fromDir: options.fromDir,
      importSources: imports.source,
    });
    const head = tests.code.split("\n").filter((_, i) => tests.lines[i] === null).join("\n");
    const body = tests.code.split("\n").filter((_, i) => tests.lines[i] !== null).join("\n");
    // The prelude runs before the student's module (imports evaluate in order): it freezes node:assert,
    // so student code cannot turn the tests' asserts into no-ops, and keeps its own way to report.
    Deno.writeTextFileSync(`${dir}/prelude.ts`, _PRELUDE);
    Deno.writeTextFileSync(
      `${dir}/harness.ts`,
      `import { report as __report } from "./prelude.ts";\n${head}\nimport { ${
        names.join(", ")
      } } from "./student.ts";\n` +
        `try {\n${body}\n  __report("${nonce}", "passed");\n} catch (e) {\n` +
        `  __report("${nonce}", e instanceof Error ? \`\${e.name}: \${e.message}\` : String(e));\n}\n`,
    );
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--no-prompt",
        "--no-check",
        "--config",
        `${options.root}/deno.json`,
        ...(options.allowRead.length ? [`--allow-read=${options.allowRead.join(",")}`] : []),
        "--v8-flags=--disallow-code-generation-from-strings",
        `${dir}/harness.ts`,
      ],
      cwd: options.fromDir,
      clearEnv: true,
      env: _childEnv(),
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const timer = killAfter(child, options.timeoutSeconds * 1000);
    const [out, err] = await Promise.all([
      new Response(child.stdout).text(),
      new Response(child.stderr).text(),
    ]);
    await child.status;
    timer.clear();
    if (timer.timedOut) return `Timed out after ${options.timeoutSeconds} s (an endless loop?).`;
    for (const line of out.split("\n")) {
      try {
        const v = JSON.parse(line)?.[nonce];
        if (typeof v === "string") return v.replace(/\s+/g, " ").slice(0, 400);
      } catch { /* the student's own output */ }
    }
    const why = err.split("\n").find((l) => /^error: /.test(l.trim())) ?? err.trim().split("\n").at(-1) ?? "";
    return `The exercise did not finish: ${
      why.replace(/^\s*error:\s*/, "").replace(/file:\/\/\S*ince-grade-[^/]+\//g, "")
        .slice(0, 400) || "it exited early"
    }`;
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
}

/**
 * Grades a notebook, exercise by exercise.
 *
 * @param path The notebook to grade (a student's copy, or the lesson).
 * @param options The lesson with the tests, time limit, readable folders.
 * @returns Points per exercise and in total.
 * @throws {Error} When a notebook cannot be read (path and reason).
 *
 * @example
 * ```ts ignore
 * import { gradeNotebook } from "./grade_notebook.ts";
 * const report = await gradeNotebook("student.ipynb", { source: "notebooks/00-first-time-beginner/00-first-fine-tune.ipynb" });
 * console.log(`${report.points}/${report.max}`);
 * ```
 */
export async function gradeNotebook(path: string, options: GradeOptions = {}): Promise<GradeReport> {
  const root = projectRoot();
  const source = readNotebook(options.source ?? path, { kernel: null });
  const student = options.source ? readNotebook(path, { kernel: null }) : source;
  const importsOf = (nb: Notebook) =>
    nb.cells.filter((c) => c.cell_type === "code").map((c) =>
      splitImports(cellSource(c)).imports.map((i) => i.text).join("\n")
    );
  const imports = { student: importsOf(student), source: importsOf(source) };
  const fromDir = dirname(resolve(options.source ?? path));
  const results: ExerciseResult[] = [];
  for (const ex of _exercises(source)) {
    const cells = student.cells.map((c, i) => [c, i] as const).filter(([c]) =>
      c.cell_type === "code" && exerciseMeta(c).exercise === ex.id && !cellTags(c).includes("tests")
    );
    let message: string;
    if (cells.length === 0) {
      message = `Exercise "${ex.id}" is missing from the notebook (was its cell deleted?); 0 points.`;
    } else if (cells.length > 1) {
      message = `Exercise "${ex.id}" appears ${cells.length} times (cells ${
        cells.map(([, i]) => i + 1).join(", ")
      }); keep one cell for it.`;
    } else if (!ex.tests.length) {
      message = `Exercise "${ex.id}" has no tests cell in the lesson; ask the instructor.`;
    } else {
      message = await _runExercise(cellSource(cells[0][0]), ex, imports, {
        fromDir,
        root,
        timeoutSeconds: options.timeoutSeconds ?? 30,
        allowRead: options.allowRead ?? [`${root}/data`],
      });
    }
    results.push({ id: ex.id, points: message === "passed" ? ex.points : 0, max: ex.points, message });
  }
  return {
    notebook: path,
    points: results.reduce((s, r) => s + r.points, 0),
    max: results.reduce((s, r) => s + r.max, 0),
    exercises: results,
  };
}

/**
 * A path from a `file:` URL or a path.
 *
 * @param p A URL or path.
 * @returns The path.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toPath } from "./grade_notebook.ts";
 * assert.equal(toPath(new URL("file:///a/b.ipynb")), "/a/b.ipynb");
 * assert.equal(toPath("notebooks/x.ipynb"), "notebooks/x.ipynb");
 * ```
 */
export function toPath(p: URL | string): string {
  return p instanceof URL || p.startsWith("file:") ? fileURLToPath(p) : p;
}
