/**
 * Inference: ask a model (with or without an adapter) questions.
 *
 * @example
 * ```ts ignore
 * import { generate } from "./mod.ts";
 * console.log(await generate("data/models/ince-tiny", ["Who are you?"]));
 * ```
 *
 * @module
 */
export * from "./generate.ts";
export * from "./merge.ts";
export * from "./score.ts";
export * from "./token_report.ts";
