/**
 * Named run configs ("recipes") that lessons, tests, scripts and benchmarks start from, so one
 * configuration is written once. A recipe is a plain {@linkcode RunConfigInput}; overrides are merged
 * section by section ({@linkcode withPatch}: `train: { maxSteps: 30 }` keeps the recipe's other `train` fields).
 *
 * @module
 */
import { projectRoot } from "../env/paths.ts";
import type { RunConfigInput } from "./run_config.ts";

/** The built-in model's folder (absolute). */
export function builtInModel(): string {
  return `${projectRoot()}/data/models/ince-tiny`;
}

/**
 * Changes to a run config: any field; the nested sections (`dataset`, `lora`, `train`, `eval`, …) are
 * merged field by field by {@linkcode withPatch}.
 */
export type ConfigPatch = {
  [K in keyof RunConfigInput]?: NonNullable<RunConfigInput[K]> extends readonly unknown[] ? RunConfigInput[K]
    : NonNullable<RunConfigInput[K]> extends object ? Partial<NonNullable<RunConfigInput[K]>>
    : RunConfigInput[K];
};

/**
 * A config with a patch over it, one level deep: `train: { lr }` keeps the base's other `train` fields;
 * a field set to `undefined` (e.g. `dataset: { eval: undefined }`) removes the base's value.
 *
 * @param base A run config.
 * @param patch What differs.
 * @returns A new config; `base` is not modified.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withPatch } from "./recipes.ts";
 * const base = { model: "m", dataset: { train: "t" }, train: { lr: 1e-3, seed: 0 } };
 * assert.deepEqual(withPatch(base, { train: { seed: 2 } }).train, { lr: 1e-3, seed: 2 });
 * assert.equal(base.train.seed, 0);
 * ```
 */
export function withPatch(base: RunConfigInput, patch: ConfigPatch = {}): RunConfigInput {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const b = (base as Record<string, unknown>)[k];
    out[k] = v && typeof v === "object" && !Array.isArray(v) && b && typeof b === "object"
      ? { ...b, ...v }
      : v;
  }
  return out as RunConfigInput;
}

/**
 * The "numbers" recipe: the built-in model learns to write numbers in English words (lessons 00, 02, 04
 * and 06, the trainer tests and benchmarks). LoRA r 16, α 32, no dropout, all linear layers; 64-token
 * sequences, a 10-step warm-up, a loss point every 5 steps, held-out loss and exact match on 60
 * held-out questions every 50 steps.
 *
 * @param patch Changes to the recipe (e.g. `{ method: "dora", train: { maxSteps: 30 } }`); a
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
export function numbersRecipe(patch: ConfigPatch = {}): RunConfigInput {
  const data = `${projectRoot()}/data/datasets`;
  return withPatch({
    model: builtInModel(),
    dataset: { train: `${data}/numbers-train.jsonl`, eval: `${data}/numbers-heldout.jsonl` },
    lora: { r: 16, alpha: 32, dropout: 0, targetModules: "all-linear" },
    train: { warmupSteps: 10, evalEvery: 50, maxLength: 64, logEvery: 5 },
    eval: { maxExamples: 60 },
  }, patch);
}
