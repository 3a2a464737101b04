/**
 * A figure is plain data in plotly's JSON shape (`{ data, layout }`), so JupyterLab and VS Code draw it
 * interactively; {@linkcode figureBundle} adds a small static SVG for views without JavaScript
 * (nbconvert HTML, GitHub) — no plotly bundle inlined, no network.
 *
 * @module
 */
import { display, type MimeBundle } from "../display/display.ts";
import { renderSvg } from "./svg.ts";

/** The mime type JupyterLab's plotly extension (installed by set-up) and VS Code render. */
export const PLOTLY_MIME = "application/vnd.plotly.v1+json";

export { COLORWAY } from "./_colors.ts";

/** A line/marker trace. */
export interface ScatterTrace {
  type: "scatter";
  name: string;
  x: (number | string)[];
  y: number[];
  mode?: "lines" | "markers" | "lines+markers";
  line?: { color?: string; dash?: "solid" | "dot" | "dash"; width?: number };
  marker?: { color?: string; size?: number; symbol?: string };
  text?: string[];
  showlegend?: boolean;
  legendgroup?: string;
  /** Our own tag, e.g. `{ kind: "train", run: "lora" }`: kept by plotly, read by tests. */
  meta?: Record<string, unknown>;
}

/** A bar trace (one per group in grouped bars). */
export interface BarTrace {
  type: "bar";
  name: string;
  x: string[];
  y: number[];
  marker?: { color?: string };
  text?: string[];
  showlegend?: boolean;
  meta?: Record<string, unknown>;
}

/** A heatmap trace: `z[row][column]`. */
export interface HeatmapTrace {
  type: "heatmap";
  name: string;
  z: number[][];
  x?: string[];
  y?: string[];
  colorscale?: string;
  meta?: Record<string, unknown>;
}

/** Any trace we draw. */
export type Trace = ScatterTrace | BarTrace | HeatmapTrace;

/** An axis: title (with unit) and scale. */
export interface Axis {
  title?: { text: string };
  type?: "linear" | "log" | "category";
  autorange?: boolean | "reversed";
}

/** The figure's layout (a subset of plotly's). */
export interface Layout {
  title?: { text: string };
  xaxis?: Axis;
  yaxis?: Axis;
  width?: number;
  height?: number;
  barmode?: "group" | "stack";
  showlegend?: boolean;
  template?: string;
  margin?: { l: number; r: number; t: number; b: number };
}

/** A plotly figure. */
export interface Figure {
  data: Trace[];
  layout: Layout;
}

/** Options for {@linkcode showFigure}. */
export interface ShowFigureOptions {
  /** Update an earlier output in place (used by live charts). */
  displayId?: string;
  /** Replace the output with `displayId` instead of adding a new one. */
  update?: boolean;
}

/**
 * A one-line text description of a figure: the `text/plain` of its bundle.
 *
 * @param fig The figure.
 * @returns e.g. `Figure "Loss": lora (15 points), dora (15 points)`.
 *
 * @example
 * ```ts
 * import { describeFigure } from "./figure.ts";
 * console.log(describeFigure({ data: [], layout: { title: { text: "Empty" } } })); // Figure "Empty": no traces
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
 * import { figureBundle, PLOTLY_MIME } from "./figure.ts";
 * const b = figureBundle({ data: [{ type: "scatter", name: "a", x: [1, 2], y: [3, 4] }], layout: {} });
 * console.log(Object.keys(b).includes(PLOTLY_MIME)); // true
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
 * import { showFigure } from "./figure.ts";
 * const b = await showFigure({ data: [], layout: { title: { text: "Nothing yet" } } });
 * console.log(b?.["text/plain"]); // Figure "Nothing yet": no traces
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
 * import { roundSig } from "./figure.ts";
 * console.log(roundSig(3.14159265, 3)); // 3.14
 * ```
 */
export function roundSig(v: number, digits = 5): number {
  if (!Number.isFinite(v) || v === 0) return v;
  return Number(v.toPrecision(digits));
}
