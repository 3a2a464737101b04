/**
 * Grading a notebook: each exercise cell of the student's notebook runs in its own Deno process with
 * narrow permissions (read only `data/`, no net, env, run, write or FFI; no code from strings; time and
 * memory limits) against the tests of the lesson — visible and hidden — which the student's code cannot
 * read, and with built-ins it cannot change (see `run_exercise.ts` and `lockdown.ts`).
 *
 * An exercise may forbid library functions (`metadata.ince.forbid` in the lesson, e.g. the oracle of
 * its hidden tests). Three walls keep them out of the student's code: the cell may not name one or
 * import one under any name or path, nor a namespace that holds one (checked by value, see
 * `forbid.ts`); the student's module gets the notebook's imports without them; and Deno itself lists
 * the module's imports (`deno info`), so an import the grader did not read is refused.
 *
 * @module
 */
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { projectRoot } from "../env/paths.ts";
import { type Notebook, readNotebook } from "../notebook/read_notebook.ts";
import { cellSource, cellTags, exerciseMeta } from "../notebook/cells.ts";
import { absoluteImport, cellModule, declaredNames, splitImports } from "../notebook/extract_code.ts";
import { checkForbidden } from "./forbid.ts";
import { importRefusal, isNativePackage } from "./import_rules.ts";
import { assertUnreadable, type ExerciseOutcome, runExercise } from "./run_exercise.ts";

/** The result of one exercise. */
export interface ExerciseResult {
  id: string;
  points: number;
  max: number;
  /** "passed", or why not (the failing assertion, "timed out", what the sandbox refused, a missing cell). */
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
  /** Folders the student's code may read (default: the project's `data/`); never one holding the lesson. */
  allowRead?: string[];
  /** Memory per exercise in MB (default 1024; see `memory_limit.ts`). */
  memoryMb?: number;
  /** Exercises graded at once (default: half the CPU cores, 1 to 4). */
  concurrency?: number;
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

async function _runExercise(
  student: string,
  exercise: _Exercise,
  imports: { student: string[]; source: string[] },
  limits: { fromDir: string; timeoutSeconds: number; memoryMb: number; allowRead: string[]; root: string },
): Promise<ExerciseOutcome> {
  const refused = (message: string): ExerciseOutcome => ({ passed: false, message });
  // The student's module: the imports of the student's cells, then the exercise cell. Native packages
  // that other cells import are left out; the cell's own import of one is refused.
  const mod = cellModule([[0, student]], { fromDir: limits.fromDir, importSources: imports.student });
  const own = new Set(splitImports(student).imports.map((i) => absoluteImport(i, limits.fromDir).text));
  let allowed = mod.imports.filter((i) => own.has(i.text) || !isNativePackage(i.specifier));
  const bad = importRefusal(student, allowed.map((i) => i.specifier), limits.root);
  if (bad) return refused(`Not run: the exercise cell ${bad}.`);
  if (exercise.forbid.length) {
    const verdict = await checkForbidden(student, {
      id: exercise.id,
      forbid: exercise.forbid,
      imports: allowed,
      fromDir: limits.fromDir,
      root: limits.root,
    });
    if (verdict.refusal) return refused(verdict.refusal);
    allowed = verdict.imports;
  }
  const { body } = splitImports(student);
  // The tests (visible and hidden) come from the lesson, with the lesson's imports.
  const tests = cellModule(exercise.tests.map((t, i) => [i, t] as [number, string]), {
    fromDir: limits.fromDir,
    importSources: imports.source,
  });
  const testBody = tests.code.split("\n").filter((_, i) => tests.lines[i] !== null).join("\n");
  return await runExercise({
    student: { imports: allowed, body, names: declaredNames(body) },
    tests: { imports: tests.imports, body: testBody },
  }, limits);
}

/**
 * Grades a notebook, exercise by exercise.
 *
 * @param path The notebook to grade (a student's copy, or the lesson).
 * @param options The lesson with the tests, time limit, readable folders.
 * @returns Points per exercise and in total.
 * @throws {Error} When a notebook cannot be read (path and reason), or `allowRead` holds the lesson.
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
  const limits = {
    fromDir,
    root,
    timeoutSeconds: options.timeoutSeconds ?? 30,
    memoryMb: options.memoryMb ?? 1024,
    allowRead: (options.allowRead ?? [`${root}/data`]).map((p) => resolve(p)),
  };
  assertUnreadable(limits.allowRead, resolve(options.source ?? path));
  const grade = async (ex: _Exercise): Promise<ExerciseResult> => {
    const cells = student.cells.map((c, i) => [c, i] as const).filter(([c]) =>
      c.cell_type === "code" && exerciseMeta(c).exercise === ex.id && !cellTags(c).includes("tests")
    );
    let outcome: ExerciseOutcome;
    if (cells.length === 0) {
      outcome = {
        passed: false,
        message: `Exercise "${ex.id}" is missing from the notebook (was its cell deleted?); 0 points.`,
      };
    } else if (cells.length > 1) {
      outcome = {
        passed: false,
        message: `Exercise "${ex.id}" appears ${cells.length} times (cells ${
          cells.map(([, i]) => i + 1).join(", ")
        }); keep one cell for it.`,
      };
    } else if (!ex.tests.length) {
      outcome = {
        passed: false,
        message: `Exercise "${ex.id}" has no tests cell in the lesson; ask the instructor.`,
      };
    } else {
      outcome = await _runExercise(cellSource(cells[0][0]), ex, imports, limits);
    }
    return { id: ex.id, points: outcome.passed ? ex.points : 0, max: ex.points, message: outcome.message };
  };
  const exercises = _exercises(source);
  const results: ExerciseResult[] = new Array(exercises.length);
  let next = 0;
  const workers = options.concurrency ??
    Math.min(4, Math.max(1, Math.floor(navigator.hardwareConcurrency / 2)));
  await Promise.all(
    Array.from({ length: Math.min(Math.max(1, workers), exercises.length) }, async () => {
      while (next < exercises.length) {
        const i = next++;
        results[i] = await grade(exercises[i]);
      }
    }),
  );
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
