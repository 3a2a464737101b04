/**
 * Named run configs ("recipes") that lessons, tests, scripts and benchmarks start from, so one
 * configuration is written once. A recipe is a plain {@linkcode RunConfigInput}; overrides are merged
 * section by section (`train: { maxSteps: 30 }` keeps the recipe's other `train` fields).
 *
 * @module
 */
import { projectRoot } from "../env/paths.ts";
import type { RunConfigInput } from "./run_config.ts";

/** The module names `targetModules: "all-linear"` stands for in a Llama/Qwen-style decoder. */
export const ALL_LINEAR_MODULES: readonly string[] = [
  "q_proj",
  "k_proj",
  "v_proj",
  "o_proj",
  "gate_proj",
  "up_proj",
  "down_proj",
];

/** The built-in model's folder (absolute). */
export function builtInModel(): string {
  return `${projectRoot()}/data/models/ince-tiny`;
}

/** Overrides for a recipe: any run-config field; the nested sections are merged field by field. */
export type RecipeOverrides = Omit<Partial<RunConfigInput>, "dataset" | "lora" | "train" | "eval"> & {
  dataset?: Partial<RunConfigInput["dataset"]> & { eval?: string | undefined };
  lora?: RunConfigInput["lora"];
  train?: RunConfigInput["train"];
  eval?: RunConfigInput["eval"];
};

/**
 * Merges overrides into a run config, section by section (`dataset`, `lora`, `train`, `eval`); a
 * section key set to `undefined` removes the recipe's value.
 *
 * @param base A run config.
 * @param overrides The changes.
 * @returns A new config; `base` is not modified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withOverrides } from "./recipes.ts";
 * const base = { model: "m", dataset: { train: "t.jsonl" }, train: { maxSteps: 10, lr: 1e-3 } };
 * assert.deepEqual(withOverrides(base, { train: { maxSteps: 3 } }).train, { maxSteps: 3, lr: 1e-3 });
 * assert.equal(base.train.maxSteps, 10);
 * ```
 */
export function withOverrides(base: RunConfigInput, overrides: RecipeOverrides = {}): RunConfigInput {
  const { dataset, lora, train, eval: evalSection, ...rest } = overrides;
  const merged: RunConfigInput = {
    ...base,
    ...rest,
    dataset: { ...base.dataset, ...dataset } as RunConfigInput["dataset"],
  };
  if (lora || base.lora) merged.lora = { ...base.lora, ...lora };
  if (train || base.train) merged.train = { ...base.train, ...train };
  if (evalSection || base.eval) merged.eval = { ...base.eval, ...evalSection };
  return merged;
}

/**
 * The "numbers" recipe: the built-in model learns to write numbers in English words (lessons 00, 02, 04
 * and 06, the trainer tests and benchmarks). LoRA r 16, α 32, no dropout, all linear layers; 64-token
 * sequences, a 10-step warm-up, a loss point every 5 steps, held-out loss and exact match on 60
 * held-out questions every 50 steps.
 *
 * @param overrides Changes to the recipe (e.g. `{ method: "dora", train: { maxSteps: 30 } }`); a
 *   notebook passes `model` (its `MODEL` parameter) and may pass relative dataset paths.
 * @returns The run config.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numbersRecipe } from "./recipes.ts";
 * import { parseRunConfig } from "./run_config.ts";
 * const config = parseRunConfig(numbersRecipe({ method: "dora", train: { maxSteps: 30 } }));
 * assert.equal(config.method, "dora");
 * assert.deepEqual([config.train.maxSteps, config.train.maxLength, config.lora.r], [30, 64, 16]);
 * assert.ok(config.dataset.eval?.endsWith("numbers-heldout.jsonl"));
 * ```
 */
export function numbersRecipe(overrides: RecipeOverrides = {}): RunConfigInput {
  const data = `${projectRoot()}/data/datasets`;
  return withOverrides({
    model: builtInModel(),
    dataset: { train: `${data}/numbers-train.jsonl`, eval: `${data}/numbers-heldout.jsonl` },
    lora: { r: 16, alpha: 32, dropout: 0, targetModules: "all-linear" },
    train: { warmupSteps: 10, evalEvery: 50, maxLength: 64, logEvery: 5 },
    eval: { maxExamples: 60 },
  }, overrides);
}
