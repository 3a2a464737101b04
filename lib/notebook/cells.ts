/**
 * Reading cells the way our conventions need: joined source, tags, and the exercise metadata
 * (`metadata.ince = { exercise: "<id>", points: N, forbid: ["routeTopK"] }` on cells tagged `exercise`;
 * `{ exercise: "<id>" }` on cells tagged `tests`).
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
 * import assert from "node:assert/strict";
 * import { cellSource } from "./cells.ts";
 * assert.equal(cellSource({ source: ["a\n", "b"] }), "a\nb");
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
 * import assert from "node:assert/strict";
 * import { cellTags } from "./cells.ts";
 * assert.deepEqual(cellTags({ metadata: { tags: ["exercise"] } }), ["exercise"]);
 * assert.deepEqual(cellTags({ metadata: {} }), []);
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
  /**
   * Library exports the student's exercise code may not use (on the `exercise` cell), e.g. the
   * function its hidden tests use as the oracle. Present only when it is an array of strings.
   */
  forbid?: string[];
}

/**
 * A cell's `metadata.ince` exercise fields.
 *
 * @param cell The cell.
 * @returns The id, points and forbidden names found (possibly empty).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exerciseMeta } from "./cells.ts";
 * assert.deepEqual(
 *   exerciseMeta({ metadata: { ince: { exercise: "a", points: 2, forbid: ["routeTopK"] } } }),
 *   { exercise: "a", points: 2, forbid: ["routeTopK"] },
 * );
 * assert.deepEqual(exerciseMeta({ metadata: { ince: { points: "2" } } }), {}); // not a number: left out
 * ```
 */
export function exerciseMeta(cell: Pick<NotebookCell, "metadata">): ExerciseMeta {
  const ince = (cell.metadata as { ince?: Record<string, unknown> } | undefined)?.ince ?? {};
  return {
    ...(typeof ince.exercise === "string" ? { exercise: ince.exercise } : {}),
    ...(typeof ince.points === "number" ? { points: ince.points } : {}),
    ...(Array.isArray(ince.forbid) && ince.forbid.every((n) => typeof n === "string")
      ? { forbid: ince.forbid as string[] }
      : {}),
  };
}
