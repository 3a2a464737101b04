/**
 * Showing things: inside the Deno kernel as Jupyter outputs (updated in place by id), elsewhere the
 * bundle is simply returned, so library code never throws outside a notebook.
 *
 * {@linkcode displayTarget} is the one place that decides where output goes; the rest of the library
 * asks it instead of testing `Deno.jupyter` or a terminal itself.
 *
 * @module
 */

/** A Jupyter mime bundle, e.g. `{ "text/html": "<b>hi</b>", "text/plain": "hi" }`. */
export type MimeBundle = Record<string, unknown>;

/** Where output goes: a notebook output, a terminal line, or nowhere (pipes, files, tests). */
export type DisplayTarget = "kernel" | "terminal" | "none";

/** Options for {@linkcode display}. */
export interface DisplayOptions {
  /** Give the output an id so later calls can update it in place. */
  displayId?: string;
  /** Replace the output with this id instead of adding a new one. */
  update?: boolean;
}

type _Jupyter = {
  display: (
    bundle: MimeBundle,
    options: { raw: boolean; display_id?: string; update?: boolean },
  ) => Promise<void>;
};

function _jupyter(): _Jupyter | undefined {
  try {
    // Accessing Deno.jupyter outside the kernel throws.
    const j = (Deno as unknown as { jupyter?: _Jupyter }).jupyter;
    return typeof j?.display === "function" ? j : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Where output goes: `"kernel"` inside the Deno Jupyter kernel, else `"terminal"` when `stream` is a
 * terminal, else `"none"`.
 *
 * @param stream The stream a terminal view would write to (default `"stdout"`; progress bars use `"stderr"`).
 * @returns The target.
 *
 * @example Under `deno test` there is no kernel
 * ```ts
 * import assert from "node:assert/strict";
 * import { displayTarget } from "./display.ts";
 * assert.notEqual(displayTarget(), "kernel");
 * assert.equal(displayTarget("stderr") === "terminal", Deno.stderr.isTerminal());
 * ```
 */
export function displayTarget(stream: "stdout" | "stderr" = "stdout"): DisplayTarget {
  if (_jupyter()) return "kernel";
  return (stream === "stderr" ? Deno.stderr : Deno.stdout).isTerminal() ? "terminal" : "none";
}

/**
 * Shows a bundle in the notebook (awaiting delivery, so no output arrives after its cell ends);
 * outside the kernel it does nothing.
 *
 * @param bundle The mime bundle.
 * @param options Display id / update.
 * @returns Outside the kernel the same bundle, for tests and plain scripts; inside it `undefined`, so
 *   `await display(…)` as a cell's last line does not print the bundle a second time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { display } from "./display.ts";
 * const b = await display({ "text/plain": "hello" });
 * assert.deepEqual(b, { "text/plain": "hello" });
 * ```
 */
export async function display(
  bundle: MimeBundle,
  options: DisplayOptions = {},
): Promise<MimeBundle | undefined> {
  const j = _jupyter();
  if (j) {
    await j.display(bundle, {
      raw: true,
      ...(options.displayId ? { display_id: options.displayId } : {}),
      ...(options.update ? { update: true } : {}),
    });
    return undefined;
  }
  return bundle;
}
