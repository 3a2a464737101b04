/**
 * Showing things: inside the Deno kernel as Jupyter outputs (updated in place by id), elsewhere the
 * bundle is simply returned, so library code never throws outside a notebook.
 *
 * @module
 */

/** A Jupyter mime bundle, e.g. `{ "text/html": "<b>hi</b>", "text/plain": "hi" }`. */
export type MimeBundle = Record<string, unknown>;

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

/**
 * Whether this code runs inside the Deno Jupyter kernel.
 *
 * @returns True inside the kernel.
 *
 * @example
 * ```ts
 * import { inKernel } from "./display.ts";
 * console.log(inKernel()); // false under deno test
 * ```
 */
export function inKernel(): boolean {
  return _jupyter() !== undefined;
}

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
 * import { display } from "./display.ts";
 * const b = await display({ "text/plain": "hello" });
 * console.log(b?.["text/plain"]); // "hello"
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
