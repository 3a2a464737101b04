/**
 * Reading cells the way our conventions need: joined source, tags, and the exercise metadata
 * (`metadata.ince = { exercise: "<id>", points: N }` on cells tagged `exercise` and `tests`).
 *
 * @module
 */
import type { Notebook } from "./read_notebook.ts";

/** A cell of a parsed notebook. */
export type NotebookCell = Notebook["cells"][number];

/**
 * A cell's source as one string (nbformat stores either a string or a list of lines).
 *
 * @param cell The cell.
 * @returns Its source.
 *
 * @example
 * ```ts
 * import { cellSource } from "./cells.ts";
 * console.log(cellSource({ source: ["a\n", "b"] })); // "a\nb"
 * ```
 */
export function cellSource(cell: Pick<NotebookCell, "source">): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/**
 * A cell's tags.
 *
 * @param cell The cell.
 * @returns `metadata.tags`, or `[]`.
 *
 * @example
 * ```ts
 * import { cellTags } from "./cells.ts";
 * console.log(cellTags({ metadata: { tags: ["exercise"] } })); // ["exercise"]
 * ```
 */
export function cellTags(cell: Pick<NotebookCell, "metadata">): string[] {
  const tags = (cell.metadata as { tags?: unknown } | undefined)?.tags;
  return Array.isArray(tags) ? tags.filter((t): t is string => typeof t === "string") : [];
}

/** The exercise metadata of a cell. */
export interface ExerciseMeta {
  /** The exercise id, unique in the notebook. */
  exercise?: string;
  /** Points (on the `exercise` cell). */
  points?: number;
}

/**
 * A cell's `metadata.ince` exercise fields.
 *
 * @param cell The cell.
 * @returns The id and points found (possibly empty).
 *
 * @example
 * ```ts
 * import { exerciseMeta } from "./cells.ts";
 * console.log(exerciseMeta({ metadata: { ince: { exercise: "a", points: 2 } } }));
 * // { exercise: "a", points: 2 }
 * ```
 */
export function exerciseMeta(cell: Pick<NotebookCell, "metadata">): ExerciseMeta {
  const ince = (cell.metadata as { ince?: Record<string, unknown> } | undefined)?.ince ?? {};
  return {
    ...(typeof ince.exercise === "string" ? { exercise: ince.exercise } : {}),
    ...(typeof ince.points === "number" ? { points: ince.points } : {}),
  };
}
