/**
 * The student version of a lesson: solutions replaced by stubs that throw a clear TODO, hidden tests
 * removed, outputs cleared.
 *
 * @module
 */
import type { Notebook } from "./read_notebook.ts";
import { cellSource, exerciseMeta } from "./cells.ts";
import { findRegions, replaceRegions } from "./markers.ts";

/**
 * Strips a solution notebook for students.
 *
 * @param nb The solution notebook.
 * @param options `where`: its path, for messages.
 * @returns A new notebook: each `// BEGIN SOLUTION` … `// END SOLUTION` region becomes
 *   `throw new Error("TODO: exercise <id>: …")` at the same indent, each hidden-tests region is gone,
 *   every code cell has no outputs and no execution count.
 * @throws {Error} When a cell's markers are unbalanced (cell number and line).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stripSolutions } from "./student_notebook.ts";
 * import { codeCell, newNotebook } from "./build_notebook.ts";
 * const nb = newNotebook([codeCell("function f(): number {\n  // BEGIN SOLUTION\n  return 1;\n  // END SOLUTION\n}", {
 *   tags: ["exercise"], metadata: { ince: { exercise: "f", points: 1 } },
 * })]);
 * assert.equal(
 *   stripSolutions(nb).cells[0].source,
 *   'function f(): number {\n  throw new Error("TODO: exercise f: write your solution here");\n}',
 * );
 * ```
 */
export function stripSolutions(nb: Notebook, options: { where?: string } = {}): Notebook {
  const cells = nb.cells.map((cell, i) => {
    const source = cellSource(cell);
    const { problems } = findRegions(source);
    if (problems.length) {
      throw new Error(
        `${options.where ?? "notebook"}: cell ${i + 1}: unbalanced markers: ${problems.join("; ")}`,
      );
    }
    const id = exerciseMeta(cell).exercise ?? `in cell ${i + 1}`;
    let text = replaceRegions(
      source,
      "SOLUTION",
      (r) => [`${r.indent}throw new Error("TODO: exercise ${id}: write your solution here");`],
    );
    text = replaceRegions(text, "HIDDEN TESTS", () => []);
    if (cell.cell_type !== "code") return { ...cell, source: text };
    return { ...cell, source: text, outputs: [], execution_count: null };
  });
  return { ...nb, cells };
}
