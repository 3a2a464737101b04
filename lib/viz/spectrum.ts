/**
 * Singular-value spectra: how much of a weight matrix lives in its top directions (PiSSA's premise).
 *
 * @module
 */
import { COLORWAY } from "./_colors.ts";
import { roundSig } from "./figure.ts";
import type { Figure, ScatterTrace } from "./figure_types.ts";

/** Options for {@linkcode spectrum}. */
export interface SpectrumOptions {
  /** Chart title (default "Singular values"). */
  title?: string;
  /** Mark the first `rank` values (e.g. PiSSA's r) with a second, highlighted trace. */
  rank?: number;
  /** Log-scale y axis (default true). */
  logY?: boolean;
}

/**
 * Singular values in descending order against their index; several matrices overlay.
 *
 * @param values One spectrum, or name → spectrum.
 * @param options Title, highlighted rank, scale.
 * @returns A plotly figure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { spectrum } from "./spectrum.ts";
 * const fig = spectrum({ q_proj: [5, 3, 1, 0.5] }, { rank: 2 });
 * assert.deepEqual(fig.data.map((t) => t.name), ["q_proj", "q_proj · top 2"]);
 * assert.deepEqual(fig.data[1].y, [5, 3]);
 * ```
 */
export function spectrum(
  values: readonly number[] | Float32Array | Record<string, readonly number[] | Float32Array>,
  options: SpectrumOptions = {},
): Figure {
  const named: Record<string, readonly number[] | Float32Array> =
    Array.isArray(values) || values instanceof Float32Array
      ? { "singular values": values as readonly number[] }
      : values as Record<string, readonly number[]>;
  const data: ScatterTrace[] = [];
  Object.entries(named).forEach(([name, s], i) => {
    const ys = Array.from(s, (v) => roundSig(v, 4));
    const color = COLORWAY[i % COLORWAY.length];
    data.push({
      type: "scatter",
      mode: "lines",
      name,
      x: ys.map((_, j) => j + 1),
      y: ys,
      line: { color },
    });
    if (options.rank) {
      const r = Math.min(options.rank, ys.length);
      data.push({
        type: "scatter",
        mode: "markers",
        name: `${name} · top ${r}`,
        x: ys.slice(0, r).map((_, j) => j + 1),
        y: ys.slice(0, r),
        marker: { color, size: 7 },
      });
    }
  });
  return {
    data,
    layout: {
      title: { text: options.title ?? "Singular values" },
      xaxis: { title: { text: "index (largest first)" } },
      yaxis: { title: { text: "singular value" }, type: options.logY === false ? "linear" : "log" },
      template: "plotly_white",
    },
  };
}
