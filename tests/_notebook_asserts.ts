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

/** One output of an executed cell. */
export type CellOutput = { output_type: string; data?: Record<string, unknown>; text?: string[] };

/** What an executed notebook shows: its outputs, the printed text, the HTML, and its tables by caption. */
export interface ExecutedNotebook {
  outputs: CellOutput[];
  /** Every stream output, joined. */
  text: string;
  /** Every `text/html` output, joined. */
  html: string;
  /** The body cells of the table whose caption contains `caption`, row by row (fails when there is none). */
  table(caption: string): string[][];
}

/** Reads an executed notebook's outputs for assertions. */
export function executedNotebook(executed: string): ExecutedNotebook {
  const outputs = (readNotebook(executed).cells as unknown as { outputs?: CellOutput[] }[]).flatMap((c) =>
    c.outputs ?? []
  );
  const text = outputs.filter((o) => o.output_type === "stream").map((o) => o.text!.join("")).join("");
  const html = outputs.map((o) => [o.data?.["text/html"] ?? ""].flat().join("")).join("\n");
  const table = (caption: string) => {
    const start = html.indexOf(caption);
    assert.ok(start >= 0, `table "${caption}" is in the executed notebook`);
    const end = html.indexOf("</table>", start);
    return [...html.slice(start, end).matchAll(/<tr>(.*?)<\/tr>/g)].map((m) =>
      [...m[1].matchAll(/<td[^>]*>(.*?)<\/td>/g)].map((c) => c[1])
    ).filter((cells) => cells.length);
  };
  return { outputs, text, html, table };
}
