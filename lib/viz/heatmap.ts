/**
 * Heatmaps, e.g. which expert each token is routed to in a mixture of experts.
 *
 * @module
 */
import { roundSig } from "./figure.ts";
import type { Figure } from "./figure_types.ts";

/** Options for {@linkcode heatmap}. */
export interface HeatmapOptions {
  /** Chart title. */
  title?: string;
  /** Column labels (x), e.g. expert names. */
  x?: string[];
  /** Row labels (y), e.g. tokens. */
  y?: string[];
  /** x axis title. */
  xTitle?: string;
  /** y axis title. */
  yTitle?: string;
  /** The name of the value (shown on hover), default "value". */
  name?: string;
}

/**
 * A heatmap of `z[row][column]`, first row at the top.
 *
 * @param z Rows of equal length.
 * @param options Labels and titles.
 * @returns A plotly figure.
 * @throws {RangeError} When rows differ in length.
 *
 * @example Router probabilities: 2 tokens × 3 experts
 * ```ts
 * import assert from "node:assert/strict";
 * import { heatmap } from "./heatmap.ts";
 * const fig = heatmap([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]], { x: ["e0", "e1", "e2"], y: ["the", "cat"] });
 * assert.equal(fig.data[0].type, "heatmap");
 * assert.deepEqual(fig.data[0].type === "heatmap" && fig.data[0].y, ["the", "cat"]);
 * ```
 */
export function heatmap(z: readonly (readonly number[])[], options: HeatmapOptions = {}): Figure {
  const cols = z[0]?.length ?? 0;
  z.forEach((row, i) => {
    if (row.length !== cols) {
      throw new RangeError(
        `heatmap(): row ${i} has ${row.length} values, row 0 has ${cols}; give rows of equal length`,
      );
    }
  });
  if (options.x && options.x.length !== cols) {
    throw new RangeError(
      `heatmap(): ${options.x.length} column labels for ${cols} columns; give one label per column.`,
    );
  }
  if (options.y && options.y.length !== z.length) {
    throw new RangeError(
      `heatmap(): ${options.y.length} row labels for ${z.length} rows; give one label per row.`,
    );
  }
  return {
    data: [{
      type: "heatmap",
      name: options.name ?? "value",
      z: z.map((r) => r.map((v) => roundSig(v, 4))),
      ...(options.x ? { x: options.x } : {}),
      ...(options.y ? { y: options.y } : {}),
      colorscale: "Viridis",
    }],
    layout: {
      title: { text: options.title ?? "" },
      xaxis: { type: "category", ...(options.xTitle ? { title: { text: options.xTitle } } : {}) },
      yaxis: {
        type: "category",
        autorange: "reversed",
        ...(options.yTitle ? { title: { text: options.yTitle } } : {}),
      },
      template: "plotly_white",
    },
  };
}
