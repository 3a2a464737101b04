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
export * from "./number_words.ts";
export * from "./rule_judge.ts";
export * from "./judge_prompts.ts";
export * from "./recorded_judge.ts";
export * from "./local_judge.ts";
export * from "./openai_judge.ts";
export * from "./align_run.ts";
export * from "./cai.ts";
export * from "./rlaif.ts";
export * from "./context_distillation.ts";
export * from "./principle_rates.ts";
export * from "./metrics.ts";
export * from "./dpo_loss.ts";
export * from "./label_cost.ts";
