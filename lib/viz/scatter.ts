/**
 * Scatter plots of named point sets, e.g. DoRA's magnitude change vs direction change per layer.
 *
 * @module
 */
import { COLORWAY } from "./_colors.ts";
import { roundSig } from "./figure.ts";
import type { Figure, ScatterTrace } from "./figure_types.ts";

/** One named set of points. */
export interface PointSet {
  x: readonly number[];
  y: readonly number[];
  /** Hover labels, one per point. */
  text?: readonly string[];
}

/** Options for {@linkcode scatter}. */
export interface ScatterOptions {
  /** Chart title. */
  title?: string;
  /** x axis title with unit. */
  xTitle?: string;
  /** y axis title with unit. */
  yTitle?: string;
}

/**
 * One marker trace per named point set.
 *
 * @param sets Name → points.
 * @param options Titles.
 * @returns A plotly figure.
 * @throws {RangeError} When a set's x and y differ in length.
 *
 * @example DoRA's Figure 2 axes
 * ```ts
 * import assert from "node:assert/strict";
 * import { scatter } from "./scatter.ts";
 * const fig = scatter({ dora: { x: [0.1, 0.2], y: [0.01, 0.03] } }, { xTitle: "ΔD", yTitle: "ΔM" });
 * assert.deepEqual(fig.data.map((t) => t.name), ["dora"]);
 * assert.equal(fig.layout.xaxis?.title?.text, "ΔD");
 * ```
 */
export function scatter(sets: Record<string, PointSet>, options: ScatterOptions = {}): Figure {
  const data: ScatterTrace[] = Object.entries(sets).map(([name, s], i) => {
    if (s.x.length !== s.y.length) {
      throw new RangeError(
        `scatter(): "${name}" has ${s.x.length} x values but ${s.y.length} y values; give one y per x.`,
      );
    }
    return {
      type: "scatter",
      mode: "markers",
      name,
      x: s.x.map((v) => roundSig(v, 4)),
      y: s.y.map((v) => roundSig(v, 4)),
      ...(s.text ? { text: [...s.text] } : {}),
      marker: { color: COLORWAY[i % COLORWAY.length], size: 8 },
    };
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? "" },
      xaxis: { title: { text: options.xTitle ?? "" } },
      yaxis: { title: { text: options.yTitle ?? "" } },
      template: "plotly_white",
    },
  };
}
