/**
 * The figure data types: plain data in plotly's JSON shape (`{ data, layout }`). Every chart builder
 * and the SVG renderer import them from here, so no two viz files import each other.
 *
 * @module
 */

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
