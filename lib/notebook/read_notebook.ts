/**
 * Reading notebooks with errors that name the file and what is wrong.
 *
 * @module
 */
import { z } from "zod";

/** The kernelspec name every ince notebook must use. */
export const INCE_KERNEL = "ince";

/** nbformat 4, as far as ince relies on it; unknown fields pass through untouched. */
export const NotebookSchema = z.looseObject({
  nbformat: z.literal(4),
  nbformat_minor: z.number().int(),
  metadata: z.looseObject({
    kernelspec: z.looseObject({ name: z.string(), display_name: z.string().optional() }).optional(),
  }),
  cells: z.array(
    z.looseObject({
      cell_type: z.enum(["code", "markdown", "raw"]),
      source: z.union([z.string(), z.array(z.string())]),
      metadata: z.looseObject({}).optional(),
    }),
  ),
});

/** A parsed notebook. */
export type Notebook = z.infer<typeof NotebookSchema>;

/** Options for {@linkcode readNotebook}. */
export interface ReadNotebookOptions {
  /** Require `metadata.kernelspec.name` to be this (default: `"ince"`); `null` skips the check. */
  kernel?: string | null;
}

function _lineCol(text: string, message: string): string {
  // V8's JSON errors say "at position N" (or "line L column C"): turn a position into line:column.
  const m = message.match(/position (\d+)/);
  if (!m) return "";
  const before = text.slice(0, Number(m[1]));
  const line = before.split("\n").length;
  return ` at line ${line}, column ${Number(m[1]) - before.lastIndexOf("\n")}`;
}

/**
 * Reads and checks a notebook file: it exists, is JSON, is nbformat 4, and uses our kernel.
 *
 * @param path The `.ipynb` file.
 * @param options Which kernelspec to require.
 * @returns The parsed notebook.
 * @throws {Error} A one-line message naming the file, what is wrong and what to do.
 *
 * @example Read a lesson
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { readNotebook } from "./read_notebook.ts";
 * const nb = readNotebook(`${projectRoot()}/notebooks/00-first-time-beginner/00-first-fine-tune.ipynb`);
 * assert.equal(nb.metadata.kernelspec?.name, "ince");
 * assert.throws(() => readNotebook("no-such.ipynb"), /no-such\.ipynb: no such notebook/);
 * ```
 */
export function readNotebook(path: string, options: ReadNotebookOptions = {}): Notebook {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${path}: no such notebook. Check the path (it is relative to ${Deno.cwd()}).`);
    }
    throw new Error(`${path}: cannot read it (${(e as Error).message}).`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    throw new Error(
      `${path}: not valid JSON${_lineCol(text, msg)} (${msg.split("\n")[0]}). ` +
        "Fix the file or restore it with `git checkout -- <file>`.",
    );
  }
  const parsed = NotebookSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${path}: not an nbformat 4 notebook: field ${issue.path.join(".") || "(top)"}: ${issue.message}. ` +
        "Re-save it from JupyterLab.",
    );
  }
  const want = options.kernel === undefined ? INCE_KERNEL : options.kernel;
  const have = parsed.data.metadata.kernelspec?.name;
  if (want !== null && have !== want) {
    throw new Error(
      `${path}: kernelspec is ${have ? `"${have}"` : "missing"}, not "${want}". ` +
        `Open it in JupyterLab and pick the kernel "Deno · ince (TypeScript)", or set metadata.kernelspec.name to "${want}".`,
    );
  }
  return parsed.data;
}
