/**
 * Answers for evaluation, many at once: greedy (pass@1, exact match) or n sampled answers per prompt
 * (pass@k), in batches, in one Python process (transformers' `generate`, left padding, the model's chat
 * template).
 *
 * @module
 */
import { z } from "zod";
import { modelJob, runPythonJob } from "../infer/_python_job.ts";
import type { Message } from "../data/load_dataset.ts";

/** Options for {@linkcode generateSamples}. */
export interface GenerateSamplesOptions {
  /** An adapter folder (e.g. a run's `adapter/`). */
  adapter?: string;
  /** Samples per prompt (default 1; more than 1 needs a temperature > 0). */
  n?: number;
  /** 0 (default) is greedy decoding. */
  temperature?: number;
  /** Nucleus sampling (default 1: off). */
  topP?: number;
  /** Longest answer in tokens (default 64). */
  maxNewTokens?: number;
  /** Seeds the sampling, so the same call gives the same samples (default 0). */
  seed?: number;
  /** Prompts per forward pass (default 16). */
  batchSize?: number;
  /** Answers are cut at the first of these strings. */
  stop?: string[];
}

/**
 * Generates `n` answers per prompt.
 *
 * @param model The model folder (or a Hub id in the cache).
 * @param prompts Questions or whole chats.
 * @param options Adapter, sampling, lengths, seed, batch size, stop strings.
 * @returns For each prompt, its `n` answers.
 * @throws {Error} When `n` > 1 with greedy decoding, or the model cannot load (Python's last line).
 *
 * @example Greedy answers of the built-in model, batched
 * ```ts
 * import assert from "node:assert/strict";
 * import { generateSamples } from "./generate_samples.ts";
 * const out = await generateSamples("data/models/ince-tiny", ["Write 3 in English words.", "Who are you?"], { maxNewTokens: 4 });
 * assert.equal(out.length, 2);
 * assert.equal(out[0].length, 1);
 * ```
 */
export async function generateSamples(
  model: string,
  prompts: (string | Message[])[],
  options: GenerateSamplesOptions = {},
): Promise<string[][]> {
  const n = options.n ?? 1, temperature = options.temperature ?? 0;
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`generateSamples: n must be a whole number ≥ 1 (got ${n}).`);
  }
  if (n > 1 && temperature <= 0) {
    throw new Error(
      `generateSamples: ${n} samples per prompt need a temperature > 0 (greedy decoding gives one answer).`,
    );
  }
  if (prompts.length === 0) return [];
  const job = {
    ...modelJob(model, options.adapter),
    prompts,
    n,
    temperature,
    topP: options.topP ?? 1,
    maxNewTokens: options.maxNewTokens ?? 64,
    seed: options.seed ?? 0,
    batchSize: options.batchSize ?? 16,
    stop: options.stop ?? [],
  };
  const what = `Generating with ${model}${options.adapter ? ` + ${options.adapter}` : ""}`;
  const answer = z.object({ samples: z.array(z.array(z.string())) });
  return (await runPythonJob("eval_generate.py", job, what, answer)).samples;
}
