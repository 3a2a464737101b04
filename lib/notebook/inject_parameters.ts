/**
 * Lesson parameters, papermill's way: a cell tagged `injected-parameters` is inserted after the cell
 * tagged `parameters`, re-declaring the names given (so the defaults stay visible in the lesson).
 *
 * @module
 */
import type { Notebook } from "./read_notebook.ts";
import { cellSource, cellTags } from "./cells.ts";

/**
 * A parameter value as TypeScript: JSON when it parses (numbers, booleans, quoted strings, arrays),
 * otherwise a string.
 *
 * @param value The text from the command line.
 * @returns A TypeScript literal.
 *
 * @example
 * ```ts
 * import { parameterLiteral } from "./inject_parameters.ts";
 * console.log(parameterLiteral("300"), parameterLiteral("Qwen/Qwen2.5-0.5B-Instruct")); // 300 "Qwen/Qwen2.5-0.5B-Instruct"
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
 * The names a parameters cell declares (`const|let|var NAME =` at the start of a line).
 *
 * @param source The cell's source.
 * @returns The names in order.
 *
 * @example
 * ```ts
 * import { declaredNames } from "./inject_parameters.ts";
 * console.log(declaredNames('const MODEL = "x";\nlet STEPS = 3;')); // ["MODEL", "STEPS"]
 * ```
 */
export function declaredNames(source: string): string[] {
  return [...source.matchAll(/^(?:export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=/gm)].map((
    m,
  ) => m[1]);
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
 * import { injectParameters } from "./inject_parameters.ts";
 * import { codeCell, newNotebook } from "./build_notebook.ts";
 * const nb = injectParameters(newNotebook([codeCell("const STEPS = 300;", { tags: ["parameters"] })]), { STEPS: "20" });
 * console.log(nb.cells[1].source); // "// Injected parameters\nconst STEPS = 20;"
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
