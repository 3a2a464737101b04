/**
 * Grading: exercise cells run sandboxed against the lesson's visible and hidden tests, without the
 * library functions an exercise forbids; points as a table, JSON or JUnit; and `deno test` integration
 * for each module.
 *
 * @example
 * ```ts ignore
 * import { formatGradeTable, gradeNotebook } from "./mod.ts";
 * console.log(formatGradeTable(await gradeNotebook("notebooks/00-first-time-beginner/00-first-fine-tune.ipynb")));
 * ```
 *
 * @module
 */
export * from "./grade_notebook.ts";
export * from "./report.ts";
export * from "./grade_tests.ts";
export * from "./forbid.ts";
