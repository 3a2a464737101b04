/**
 * A display-heavy notebook and, for each cell, the outputs it must produce — built side by side so
 * the expectation comes from the cell's code, not from a recorded run.
 */
import { type Cell, codeCell, newNotebook } from "../../lib/notebook/build_notebook.ts";
import type { Notebook } from "../../lib/notebook/read_notebook.ts";

/** An output reduced to what the test compares: kind, stream name or mime types, and the text. */
export interface OutputKey {
  type: string;
  /** Stream name, or the sorted mime types of a display. */
  what: string;
  /** The stream text, or the main mime type's content as JSON. */
  text: string;
}

/** Reduces an executed cell's outputs to comparable keys. */
export function outputKeys(cell: Cell): OutputKey[] {
  const outputs = (cell.outputs ?? []) as Record<string, unknown>[];
  return outputs.map((o) => {
    const type = String(o.output_type);
    if (type === "stream") {
      const text = Array.isArray(o.text) ? o.text.join("") : String(o.text);
      return { type, what: String(o.name), text };
    }
    if (type === "error") return { type, what: String(o.ename), text: String(o.evalue) };
    const data = o.data as Record<string, unknown>;
    const mimes = Object.keys(data).sort();
    const main = mimes.find((m) => m !== "text/plain") ?? "text/plain";
    const value = data[main];
    const text = typeof value === "string"
      ? value
      : Array.isArray(value)
      ? value.join("")
      : JSON.stringify(value);
    return { type: type === "execute_result" ? "display_data" : type, what: main, text };
  });
}

const BIG = 200_000;

/** Options for {@linkcode displayHeavyNotebook}. */
export interface DisplayHeavyOptions {
  /**
   * Make cell 0 print this many ms after it returned (a `setTimeout`), while later cells run: an
   * output that stock nbclient always loses or misplaces, so a run that gets it right proves routing.
   */
  latePrintMs?: number;
}

/**
 * Builds the notebook: `n` cells cycling through stdout, HTML, markdown, plotly, live display
 * updates, 200 KB outputs and plain values (cell 0 can be a late print instead).
 */
export function displayHeavyNotebook(
  n = 40,
  options: DisplayHeavyOptions = {},
): { notebook: Notebook; expected: OutputKey[][] } {
  const cells: Cell[] = [];
  const expected: OutputKey[][] = [];
  if (options.latePrintMs !== undefined) {
    cells.push(
      codeCell(`void setTimeout(() => console.log("late print of cell 0"), ${options.latePrintMs});`),
    );
    expected.push([{ type: "stream", what: "stdout", text: "late print of cell 0\n" }]);
  }
  for (let i = cells.length; i < n; i++) {
    switch (i % 7) {
      case 0: // several prints, stdout and stderr
        cells.push(
          codeCell(
            `console.log("cell ${i} a");\nconsole.log("cell ${i} b");\nconsole.error("cell ${i} warn");`,
          ),
        );
        expected.push([
          { type: "stream", what: "stdout", text: `cell ${i} a\ncell ${i} b\n` },
          { type: "stream", what: "stderr", text: `cell ${i} warn\n` },
        ]);
        break;
      case 1: // html
        cells.push(
          codeCell(`await Deno.jupyter.display({ "text/html": "<b>cell ${i}</b>" }, { raw: true });`),
        );
        expected.push([{ type: "display_data", what: "text/html", text: `<b>cell ${i}</b>` }]);
        break;
      case 2: // markdown as the cell's value
        cells.push(codeCell(`Deno.jupyter.md\`**cell ${i}** in markdown\``));
        expected.push([{ type: "display_data", what: "text/markdown", text: `**cell ${i}** in markdown` }]);
        break;
      case 3: { // plotly mime bundle
        const fig = {
          data: [{ type: "scatter", y: [i, i + 1, i + 2] }],
          layout: { title: { text: `cell ${i}` } },
        };
        cells.push(
          codeCell(
            `await Deno.jupyter.display({ "application/vnd.plotly.v1+json": ${
              JSON.stringify(fig)
            } }, { raw: true });`,
          ),
        );
        expected.push([{
          type: "display_data",
          what: "application/vnd.plotly.v1+json",
          text: JSON.stringify(fig),
        }]);
        break;
      }
      case 4: // a live display updated in place: only the last frame stays
        cells.push(codeCell(
          `await Deno.jupyter.display({ "text/plain": "frame 0 of cell ${i}" }, { raw: true, display_id: "live-${i}" });\n` +
            `for (let f = 1; f <= 10; f++) {\n` +
            `  await new Promise((r) => setTimeout(r, 5));\n` +
            `  await Deno.jupyter.display({ "text/plain": \`frame \${f} of cell ${i}\` }, { raw: true, display_id: "live-${i}", update: true });\n` +
            `}`,
        ));
        expected.push([{ type: "display_data", what: "text/plain", text: `frame 10 of cell ${i}` }]);
        break;
      case 5: // a 200 KB output
        cells.push(codeCell(
          `await Deno.jupyter.display({ "text/html": "<pre>" + "${
            String(i % 10)
          }".repeat(${BIG}) + "</pre>" }, { raw: true });`,
        ));
        expected.push([{
          type: "display_data",
          what: "text/html",
          text: `<pre>${String(i % 10).repeat(BIG)}</pre>`,
        }]);
        break;
      default: // a print, then a value
        cells.push(codeCell(`console.log("value of cell ${i}");\n"result-${i}"`));
        expected.push([
          { type: "stream", what: "stdout", text: `value of cell ${i}\n` },
          { type: "display_data", what: "text/plain", text: `"result-${i}"` },
        ]);
    }
  }
  return { notebook: newNotebook(cells), expected };
}

/**
 * Compares executed copies with the expected outputs: how many cells differ, how many times each
 * cell index differed, and a few samples.
 */
export function countMisplaced(
  executed: string[],
  expected: OutputKey[][],
): { bad: number; badByCell: number[]; samples: string[] } {
  let bad = 0;
  const badByCell = expected.map(() => 0);
  const samples: string[] = [];
  for (const path of executed) {
    const cells = JSON.parse(Deno.readTextFileSync(path)).cells as Cell[];
    cells.forEach((cell, i) => {
      const got = outputKeys(cell);
      if (JSON.stringify(got) !== JSON.stringify(expected[i])) {
        bad++;
        badByCell[i]++;
        if (samples.length < 5) samples.push(`${path} cell ${i}: got ${JSON.stringify(got).slice(0, 200)}`);
      }
    });
  }
  return { bad, badByCell, samples };
}
