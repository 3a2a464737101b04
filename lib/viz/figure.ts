/**
 * A figure is plain data in plotly's JSON shape (`{ data, layout }`), so JupyterLab and VS Code draw it
 * interactively; {@linkcode figureBundle} adds a small static SVG for views without JavaScript
 * (nbconvert HTML, GitHub) — no plotly bundle inlined, no network.
 *
 * @module
 */
import { display, type DisplayOptions, type MimeBundle } from "../display/display.ts";
import type { Figure } from "./figure_types.ts";
import { renderSvg } from "./svg.ts";

/** The mime type JupyterLab's plotly extension (installed by set-up) and VS Code render. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

export { COLORWAY } from "./_colors.ts";

/** Options for {@linkcode showFigure}: those of `display` (a display id, and whether to update it in place). */
export type ShowFigureOptions = DisplayOptions;

/**
 * A one-line text description of a figure: the `text/plain` of its bundle.
 *
 * @param fig The figure.
 * @returns e.g. `Figure "Loss": lora (15 points), dora (15 points)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { describeFigure } from "./figure.ts";
 * assert.equal(describeFigure({ data: [], layout: { title: { text: "Empty" } } }), `Figure "Empty": no traces`);
 * ```
 */
export function describeFigure(fig: Figure): string {
  const traces = fig.data.map((t) => {
    const n = t.type === "heatmap" ? `${t.z.length}×${t.z[0]?.length ?? 0}` : `${t.y.length} points`;
    return `${t.name} (${n})`;
  });
  return `Figure "${fig.layout.title?.text ?? ""}": ${traces.length ? traces.join(", ") : "no traces"}`;
}

/**
 * The mime bundle of a figure: plotly JSON (interactive in JupyterLab and VS Code, whose plotly
 * renderers outrank HTML), the static SVG inline in `text/html` (nbconvert's HTML export puts it in the
 * page, where it can be inspected) and as `image/svg+xml` (GitHub), and a text line.
 *
 * @param fig The figure.
 * @returns The bundle.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { figureBundle, PLOTLY_MIME } from "./figure.ts";
 * const fig = { data: [{ type: "scatter" as const, name: "a", x: [1, 2], y: [3, 4] }], layout: {} };
 * const b = figureBundle(fig);
 * assert.deepEqual(Object.keys(b), [PLOTLY_MIME, "text/html", "image/svg+xml", "text/plain"]);
 * assert.equal(b[PLOTLY_MIME], fig);
 * assert.equal(b["text/plain"], `Figure "": a (2 points)`);
 * ```
 */
export function figureBundle(fig: Figure): MimeBundle {
  const svg = renderSvg(fig);
  return {
    [PLOTLY_MIME]: fig,
    "text/html": `<div class="ince-figure-static">${svg}</div>`,
    "image/svg+xml": svg,
    "text/plain": describeFigure(fig),
  };
}

/**
 * Shows a figure in the notebook (interactive in JupyterLab/VS Code, SVG in static views);
 * outside the kernel it only returns the bundle.
 *
 * @param fig The figure.
 * @param options Display id / in-place update.
 * @returns Outside the kernel the bundle; inside it `undefined` (already shown, not printed twice).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { showFigure } from "./figure.ts";
 * const b = await showFigure({ data: [], layout: { title: { text: "Nothing yet" } } });
 * assert.equal(b?.["text/plain"], `Figure "Nothing yet": no traces`);
 * ```
 *
 * @example One output redrawn in place (what live charts do)
 * ```ts
 * import assert from "node:assert/strict";
 * import { showFigure } from "./figure.ts";
 * const displayId = "my-chart";
 * await showFigure({ data: [], layout: {} }, { displayId });
 * const b = await showFigure({ data: [], layout: { title: { text: "Later" } } }, { displayId, update: true });
 * assert.equal(b?.["text/plain"], `Figure "Later": no traces`);
 * ```
 */
export async function showFigure(
  fig: Figure,
  options: ShowFigureOptions = {},
): Promise<MimeBundle | undefined> {
  return await display(figureBundle(fig), options);
}

/**
 * Rounds to a few significant digits so outputs stay small in saved notebooks.
 *
 * @param v A number.
 * @param digits Significant digits (default 5).
 * @returns The rounded number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { roundSig } from "./figure.ts";
 * assert.equal(roundSig(3.14159265, 3), 3.14);
 * assert.equal(roundSig(123456789), 123460000);
 * ```
 */
export function roundSig(v: number, digits = 5): number {
  if (!Number.isFinite(v) || v === 0) return v;
  return Number(v.toPrecision(digits));
}
