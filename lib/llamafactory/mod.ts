/**
 * LLaMA-Factory driven from TypeScript (lesson 08): its own pinned Python environment, its training keys as a
 * typed schema mapped to and from ince's run config, a dry run through its own argument parser, datasets
 * registered in `dataset_info.json`, runs whose `trainer_log.jsonl` becomes ince's events (the run store,
 * tables and charts read them unchanged), export (merge), its web UI, and a step-by-step comparison of two
 * engines on one recipe.
 *
 * @module
 */
export * from "./environment.ts";
export * from "./config.ts";
export * from "./validate.ts";
export * from "./dataset_info.ts";
export * from "./train.ts";
export * from "./export.ts";
export * from "./webui.ts";
export * from "./compare_engines.ts";
