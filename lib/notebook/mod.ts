/**
 * Notebooks: reading and writing in Jupyter's own layout, our conventions (exercises, markers,
 * parameters), student versions, checks, scaffolding, and running headless through the real Jupyter client.
 *
 * @example
 * ```ts ignore
 * import { runNotebooks } from "./mod.ts";
 * await runNotebooks(["notebooks/00-first-time-beginner"]);
 * ```
 *
 * @module
 */
export * from "./read_notebook.ts";
export * from "./write_notebook.ts";
export * from "./cells.ts";
export * from "./markers.ts";
export * from "./extract_code.ts";
export * from "./inject_parameters.ts";
export * from "./student_notebook.ts";
export * from "./check_notebook.ts";
export * from "./new_lesson.ts";
export * from "./find_notebooks.ts";
export * from "./run_notebooks.ts";
export * from "./build_notebook.ts";
