/**
 * Writing notebooks exactly as Jupyter does (nbformat's `writes`: keys sorted, one-space indent,
 * multi-line text split into lines, non-ASCII kept), so a file saved by JupyterLab and one written
 * by our tools differ only where the content differs. Unknown fields are kept.
 *
 * @module
 */
import type { Notebook } from "./read_notebook.ts";

function _splitLines(text: string): string[] {
  // nbformat's split_lines: keep the line ends, no empty last element.
  return text.split(/(?<=\n)/).filter((l, i, all) => l !== "" || i < all.length - 1);
}

function _isJsonMime(mime: string): boolean {
  return mime === "application/json" || mime.endsWith("+json");
}

function _sorted(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(_sorted);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((k) => [k, _sorted((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * A notebook as the text Jupyter would save for it.
 *
 * @param nb The notebook (unknown fields are kept).
 * @returns JSON text ending in a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatNotebook } from "./write_notebook.ts";
 * import { codeCell, newNotebook } from "./build_notebook.ts";
 * const text = formatNotebook(newNotebook([codeCell("const a = 1;\nconsole.log(a);")]));
 * assert.ok(text.includes('"source": [\n    "const a = 1;\\n",\n    "console.log(a);"\n   ]'));
 * ```
 */
export function formatNotebook(nb: Notebook): string {
  const copy = structuredClone(nb) as Notebook;
  for (const cell of copy.cells as Record<string, unknown>[]) {
    if (typeof cell.source === "string") cell.source = _splitLines(cell.source);
    for (const out of (cell.outputs ?? []) as Record<string, unknown>[]) {
      if (typeof out.text === "string") out.text = _splitLines(out.text);
      const data = out.data as Record<string, unknown> | undefined;
      for (const [mime, v] of Object.entries(data ?? {})) {
        if (typeof v === "string" && !_isJsonMime(mime)) data![mime] = _splitLines(v);
      }
    }
  }
  return JSON.stringify(_sorted(copy), null, 1) + "\n";
}

/**
 * Writes a notebook in Jupyter's own layout.
 *
 * @param path Where to write.
 * @param nb The notebook.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeNotebook } from "./write_notebook.ts";
 * import { readNotebook } from "./read_notebook.ts";
 * import { codeCell, newNotebook } from "./build_notebook.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".ipynb" });
 * writeNotebook(path, newNotebook([codeCell("1 + 1")]));
 * assert.deepEqual(readNotebook(path).cells[0].source, ["1 + 1"]);
 * Deno.removeSync(path);
 * ```
 */
export function writeNotebook(path: string, nb: Notebook): void {
  Deno.writeTextFileSync(path, formatNotebook(nb));
}
