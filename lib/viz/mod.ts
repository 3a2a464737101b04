/**
 * Charts and tables for the lessons: plotly figures (interactive in JupyterLab and VS Code, a static
 * SVG elsewhere), live training curves updated in place, and tables.
 *
 * @example
 * ```ts
 * import { lossCurves, showFigure } from "./mod.ts";
 * import { loadRun } from "../train/run_store.ts";
 * await showFigure(lossCurves({ lora: loadRun("data/runs/numbers-lora") }));
 * ```
 *
 * @module
 */
export * from "./figure.ts";
export * from "./svg.ts";
export * from "./loss_curves.ts";
export * from "./live_curves.ts";
export * from "./bar_chart.ts";
export * from "./heatmap.ts";
export * from "./spectrum.ts";
export * from "./scatter.ts";
export * from "./table.ts";
