/**
 * Lesson parameters, papermill's way: a cell tagged `injected-parameters` is inserted after the cell
 * tagged `parameters`, re-declaring the names given (so the defaults stay visible in the lesson).
 *
 * @module
 */
import type { Notebook } from "./read_notebook.ts";
import { cellSource, cellTags } from "./cells.ts";
import { declaredNames } from "./extract_code.ts";

/**
 * A parameter value as TypeScript: JSON when it parses (numbers, booleans, quoted strings, arrays),
 * otherwise a string.
 *
 * @param value The text from the command line.
 * @returns A TypeScript literal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parameterLiteral } from "./inject_parameters.ts";
 * assert.equal(parameterLiteral("300"), "300");
 * assert.equal(parameterLiteral("Qwen/Qwen2.5-0.5B-Instruct"), '"Qwen/Qwen2.5-0.5B-Instruct"');
 * ```
 */
export function parameterLiteral(value: string): string {
  try {
    return JSON.stringify(JSON.parse(value));
  } catch {
    return JSON.stringify(value);
  }
}

/**
 * Parses command-line parameters `NAME=VALUE` (the value may contain `=`).
 *
 * @param items e.g. `["STEPS=20", "MODEL=Qwen/Qwen2.5-0.5B-Instruct"]`.
 * @returns Name → value text.
 * @throws {Error} On an item without a name and `=`, saying the expected form.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseParams } from "./inject_parameters.ts";
 * assert.deepEqual(parseParams(["STEPS=20", "URL=a=b"]), { STEPS: "20", URL: "a=b" });
 * assert.throws(() => parseParams(["STEPS"]), /expected NAME=VALUE/);
 * ```
 */
export function parseParams(items: readonly string[]): Record<string, string> {
  const params: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf("=");
    if (eq < 1) throw new Error(`Parameter "${item}": expected NAME=VALUE, e.g. STEPS=20.`);
    params[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return params;
}

/**
 * A copy of the notebook with `params` injected after its `parameters` cell (an earlier injected
 * cell is replaced).
 *
 * @param nb The notebook.
 * @param params Name → value text (see {@linkcode parameterLiteral}).
 * @param options `where`: the notebook's path, for messages.
 * @returns The new notebook.
 * @throws {Error} When there is no `parameters` cell, or a name is not one of its parameters.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { injectParameters } from "./inject_parameters.ts";
 * import { codeCell, newNotebook } from "./build_notebook.ts";
 * const nb = injectParameters(newNotebook([codeCell("const STEPS = 300;", { tags: ["parameters"] })]), { STEPS: "20" });
 * assert.equal(nb.cells[1].source, "// Injected parameters\nconst STEPS = 20;");
 * ```
 */
export function injectParameters(
  nb: Notebook,
  params: Record<string, string>,
  options: { where?: string } = {},
): Notebook {
  const where = options.where ?? "notebook";
  const cells = nb.cells.filter((c) => !cellTags(c).includes("injected-parameters"));
  const index = cells.findIndex((c) => c.cell_type === "code" && cellTags(c).includes("parameters"));
  if (index === -1) {
    throw new Error(
      `${where}: no cell is tagged "parameters", so --param has nowhere to go. Tag the cell that sets the lesson's parameters.`,
    );
  }
  const known = declaredNames(cellSource(cells[index]));
  for (const name of Object.keys(params)) {
    if (!known.includes(name)) {
      throw new Error(
        `${where}: --param ${name}: the parameters cell (cell ${
          index + 1
        }) has no parameter "${name}"; it has ${known.join(", ") || "none"}.`,
      );
    }
  }
  const source = [
    "// Injected parameters",
    ...Object.entries(params).map(([k, v]) => `const ${k} = ${parameterLiteral(v)};`),
  ]
    .join("\n");
  const injected = {
    cell_type: "code" as const,
    execution_count: null,
    id: `injected-parameters`,
    metadata: { tags: ["injected-parameters"] },
    outputs: [],
    source,
  };
  return { ...nb, cells: [...cells.slice(0, index + 1), injected, ...cells.slice(index + 1)] };
}
