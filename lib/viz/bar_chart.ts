/**
 * Bar charts for per-method numbers: trainable parameters, memory, seconds per step.
 *
 * @module
 */
import { COLORWAY } from "./_colors.ts";
import { roundSig } from "./figure.ts";
import type { BarTrace, Figure } from "./figure_types.ts";

/** Options for {@linkcode barChart}. */
export interface BarChartOptions {
  /** Chart title. */
  title?: string;
  /** y axis title, with its unit, e.g. "peak memory (MB)". */
  yTitle?: string;
  /** x axis title (default none). */
  xTitle?: string;
  /** Log-scale y axis (for values spanning orders of magnitude, e.g. parameter counts). */
  logY?: boolean;
  /** Grouped values stacked into one bar per category (e.g. the terms of a memory total). */
  stacked?: boolean;
}

/**
 * A bar per category, or grouped bars (series → category → value).
 *
 * @param values `{ lora: 1, dora: 2 }`, or grouped `{ "s/step": { lora: 1 }, … }`.
 * @param options Titles and scale.
 * @returns A plotly figure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { barChart } from "./bar_chart.ts";
 * const fig = barChart({ lora: 248320, dora: 251520 }, { title: "Trainable parameters", yTitle: "parameters" });
 * assert.deepEqual(fig.data.map((t) => [t.type, t.name]), [["bar", "Trainable parameters"]]);
 * assert.deepEqual(fig.data[0].x, ["lora", "dora"]);
 * ```
 *
 * @example Stacked: one bar per method, one colour per term
 * ```ts
 * import assert from "node:assert/strict";
 * import { barChart } from "./bar_chart.ts";
 * const fig = barChart({ weights: { lora: 7, full: 7 }, optimizer: { lora: 2, full: 14 } }, { stacked: true });
 * assert.equal(fig.layout.barmode, "stack");
 * assert.deepEqual(fig.data.map((t) => t.name), ["weights", "optimizer"]);
 * ```
 */
export function barChart(
  values: Record<string, number> | Record<string, Record<string, number>>,
  options: BarChartOptions = {},
): Figure {
  const grouped = Object.values(values).some((v) => typeof v === "object");
  const series: Record<string, Record<string, number>> = grouped
    ? values as Record<string, Record<string, number>>
    : { [options.title ?? options.yTitle ?? "value"]: values as Record<string, number> };
  const data: BarTrace[] = Object.entries(series).map(([name, byCat], i) => ({
    type: "bar",
    name,
    x: Object.keys(byCat),
    y: Object.values(byCat).map((v) => roundSig(v)),
    marker: { color: COLORWAY[i % COLORWAY.length] },
  }));
  return {
    data,
    layout: {
      title: { text: options.title ?? "" },
      xaxis: { type: "category", ...(options.xTitle ? { title: { text: options.xTitle } } : {}) },
      yaxis: { title: { text: options.yTitle ?? "" }, type: options.logY ? "log" : "linear" },
      barmode: options.stacked ? "stack" : "group",
      showlegend: grouped,
      template: "plotly_white",
    },
  };
}
