/**
 * Training: the run config, the trainer process and its events, the run store, comparisons.
 *
 * @example
 * ```ts ignore
 * import { trainRun } from "./mod.ts";
 * const run = await trainRun({ model: "data/models/ince-tiny", dataset: { train: "data/datasets/numbers-train.jsonl" } });
 * ```
 *
 * @module
 */
export * from "./run_config.ts";
export * from "./events.ts";
export * from "./train_run.ts";
export * from "./run_store.ts";
export * from "./compare_runs.ts";
export * from "./overfitting.ts";
export * from "./convergence.ts";
export * from "./model_shape.ts";
export * from "./memory_estimate.ts";
export * from "./recorded_gpu_runs.ts";
export * from "./recipes.ts";
export * from "./seed_summary.ts";
export * from "./mfu.ts";
export * from "./padding.ts";
export * from "./flop_count.ts";
export * from "./row_losses.ts";
export * from "./unsloth.ts";
