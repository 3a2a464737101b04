/**
 * Grading: exercise cells run sandboxed (frozen built-ins, narrow permissions, memory and time limits)
 * against the lesson's visible and hidden tests, without the library functions an exercise forbids;
 * points as a table, JSON or JUnit; and `deno test` integration for each module.
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
export * from "./import_rules.ts";
export * from "./run_exercise.ts";
export * from "./explain_failure.ts";
export * from "./lockdown.ts";
export * from "./memory_limit.ts";
