/**
 * Changing what a model does by default (lesson 07): a constitution as data, judges that give AI feedback
 * (rules, a local model, any OpenAI-compatible endpoint), Constitutional AI's critique → revise stage, RLAIF
 * preference pairs for DPO, context distillation, and the metrics that say what changed.
 *
 * @module
 */
export * from "./types.ts";
export * from "./constitution.ts";
export * from "./align_prompts.ts";
