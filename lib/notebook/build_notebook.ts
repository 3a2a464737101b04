/**
 * Building notebooks in code: for scaffolding lessons and for tests.
 *
 * @module
 */
import { INCE_KERNEL, type Notebook } from "./read_notebook.ts";

/** A cell as nbformat 4 stores it. */
export type Cell = Notebook["cells"][number];

/** Options for {@linkcode codeCell} and {@linkcode markdownCell}. */
export interface CellOptions {
  /** Cell tags, e.g. `parameters`, `exercise`, `raises-exception`. */
  tags?: string[];
  /** Extra metadata (e.g. `{ ince: { id: "ex1", points: 2 } }`). */
  metadata?: Record<string, unknown>;
}

function _metadata(options: CellOptions): Record<string, unknown> {
  return { ...(options.tags?.length ? { tags: options.tags } : {}), ...options.metadata };
}

/**
 * A code cell with no outputs.
 *
 * @param source The TypeScript source.
 * @param options Tags and metadata.
 * @returns The cell.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeCell } from "./build_notebook.ts";
 * const cell = codeCell("console.log(1)", { tags: ["parameters"] });
 * assert.equal(cell.cell_type, "code");
 * assert.deepEqual(cell.metadata, { tags: ["parameters"] });
 * ```
 */
export function codeCell(source: string, options: CellOptions = {}): Cell {
  return { cell_type: "code", execution_count: null, metadata: _metadata(options), outputs: [], source };
}

/**
 * A markdown cell.
 *
 * @param source The markdown text.
 * @param options Tags and metadata.
 * @returns The cell.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markdownCell } from "./build_notebook.ts";
 * assert.equal(markdownCell("# Title").cell_type, "markdown");
 * ```
 */
export function markdownCell(source: string, options: CellOptions = {}): Cell {
  return { cell_type: "markdown", metadata: _metadata(options), source };
}

/**
 * A notebook that uses our kernel.
 *
 * @param cells The cells, in order.
 * @returns An nbformat 4 notebook.
 *
 * @example Write a one-cell notebook
 * ```ts
 * import assert from "node:assert/strict";
 * import { codeCell, newNotebook } from "./build_notebook.ts";
 * const nb = newNotebook([codeCell("1 + 1")]);
 * assert.equal(nb.metadata.kernelspec?.name, "ince");
 * assert.equal(nb.cells[0].id, "cell-0");
 * ```
 */
export function newNotebook(cells: Cell[]): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      kernelspec: { name: INCE_KERNEL, display_name: "Deno · ince (TypeScript)", language: "typescript" },
      language_info: { name: "typescript", file_extension: ".ts" },
    },
    cells: cells.map((c, i) => ({ id: `cell-${i}`, ...c })),
  };
}
