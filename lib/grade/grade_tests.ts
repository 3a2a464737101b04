/**
 * `deno test -P notebooks/NN-topic/` grades that module (`-P`: the grading permissions of deno.json's
 * `test.permissions` — read, write, run, env, sys; no network): each module's `grade_test.ts` calls
 * {@linkcode gradeTests}, which registers one test per exercise. The notebook graded is the lesson,
 * or a student's copy named by `INCE_GRADE_NOTEBOOK` (or a `.ipynb` argument after `--`).
 *
 * @module
 */
import { readNotebook } from "../notebook/read_notebook.ts";
import { cellTags, exerciseMeta } from "../notebook/cells.ts";
import { gradeNotebook, type GradeReport, toPath } from "./grade_notebook.ts";
import { formatGradeTable } from "./report.ts";

function _target(lesson: string): string {
  const arg = Deno.args.find((a) => a.endsWith(".ipynb"));
  try {
    return Deno.env.get("INCE_GRADE_NOTEBOOK") || arg || lesson;
  } catch {
    return arg || lesson; // no --allow-env
  }
}

/**
 * Registers one `Deno.test` per exercise of the lesson; each passes only with full points and fails
 * with the grader's message. The notebook is graded once, on the first test.
 *
 * @param lesson The lesson (solution) notebook, e.g. `new URL("./lesson.ipynb", import.meta.url)`.
 * @param options Time limit per exercise.
 *
 * @example A module's `grade_test.ts` (it grades the notebook: sandboxed runs of every exercise)
 * ```ts ignore
 * import { gradeTests } from "./grade_tests.ts";
 * gradeTests(new URL("./00-first-fine-tune.ipynb", import.meta.url));
 * ```
 */
export function gradeTests(lesson: URL | string, options: { timeoutSeconds?: number } = {}): void {
  const lessonPath = toPath(lesson);
  const target = _target(lessonPath);
  const exercises = readNotebook(lessonPath, { kernel: null }).cells
    .filter((c) => cellTags(c).includes("exercise"))
    .map((c) => exerciseMeta(c));
  let report: Promise<GradeReport> | undefined;
  const grade = () =>
    report ??= gradeNotebook(target, {
      ...(target === lessonPath ? {} : { source: lessonPath }),
      timeoutSeconds: options.timeoutSeconds,
    }).then((r) => {
      console.log(formatGradeTable(r));
      return r;
    });
  for (const ex of exercises) {
    Deno.test(`${target.split("/").pop()}: exercise ${ex.exercise} (${ex.points ?? 1} points)`, async () => {
      const r = await grade();
      const result = r.exercises.find((e) => e.id === ex.exercise)!;
      if (result.points < result.max) throw new Error(`${result.points}/${result.max}: ${result.message}`);
    });
  }
}
