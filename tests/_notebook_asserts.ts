/** Assertions on executed notebooks, shared by the notebook tests. */
import assert from "node:assert/strict";
import { readNotebook } from "../lib/notebook/read_notebook.ts";
import { cellSource } from "../lib/notebook/cells.ts";

/** No lost output: every executed cell that prints or shows something has at least one output. */
export function assertEveryShowingCellHasOutput(executed: string): void {
  const cells = readNotebook(executed).cells;
  cells.forEach((cell, i) => {
    if (cell.cell_type !== "code") return;
    const shows = /console\.log\(|showTable\(|showFigure\(|liveCurves\(/.test(cellSource(cell));
    const outputs = (cell as { outputs?: unknown[] }).outputs ?? [];
    if (shows) assert.ok(outputs.length > 0, `${executed}: cell ${i + 1} shows something but has no output`);
  });
}
