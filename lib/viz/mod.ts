/**
 * Charts and tables for the lessons: plotly figures (interactive in JupyterLab and VS Code, a static
 * SVG elsewhere), live training curves updated in place, and tables.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lossCurves, showFigure } from "./mod.ts";
 * import { loadRun } from "../train/run_store.ts";
 * const b = await showFigure(lossCurves({ lora: loadRun("data/runs/numbers-lora") }));
 * assert.match(String(b?.["text/plain"]), /^Figure "Training loss": lora \(\d+ points\), lora · eval/);
 * ```
 *
 * @module
 */
export * from "./figure_types.ts";
export * from "./figure.ts";
export * from "./svg.ts";
export * from "./loss_curves.ts";
export * from "./live_curves.ts";
export * from "./bar_chart.ts";
export * from "./heatmap.ts";
export * from "./spectrum.ts";
export * from "./scatter.ts";
export * from "./table.ts";
