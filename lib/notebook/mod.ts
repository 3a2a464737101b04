/**
 * Notebooks: reading with clear errors, and running headless through the real Jupyter client.
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
export * from "./run_notebooks.ts";
export * from "./build_notebook.ts";
