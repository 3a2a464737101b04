/**
 * Asking a model questions (before and after a fine-tune): greedy answers with the model's chat
 * template, by transformers (+ PEFT for an adapter) in a separate Python process.
 *
 * @module
 */
import { z } from "zod";
import { modelJob, runPythonJob } from "./_python_job.ts";
import type { Message } from "../data/load_dataset.ts";

/** Options for {@linkcode generate}. */
export interface GenerateOptions {
  /** A LoRA/DoRA adapter folder (e.g. a run's `adapter/`). */
  adapter?: string;
  /** Longest answer in tokens (default 32). */
  maxNewTokens?: number;
}

/**
 * Answers each prompt (greedy decoding, so the same model gives the same answer).
 *
 * @param model The model folder (or a Hub id in the cache).
 * @param prompts Questions, or whole chats.
 * @param options An adapter to apply; answer length.
 * @returns One answer per prompt.
 * @throws {Error} With the Python error's last line when loading or generating fails.
 *
 * @example Before and after
 * ```ts ignore
 * import { generate } from "./generate.ts";
 * import { trainRun } from "../train/train_run.ts";
 * import { numbersRecipe } from "../train/recipes.ts";
 * const run = await trainRun(numbersRecipe({ train: { maxSteps: 30 } }));
 * const before = await generate("data/models/ince-tiny", ["Write 47 in Turkish words."]);
 * const after = await generate("data/models/ince-tiny", ["Write 47 in Turkish words."], { adapter: `${run.dir}/adapter` });
 * ```
 */
export async function generate(
  model: string,
  prompts: (string | Message[])[],
  options: GenerateOptions = {},
): Promise<string[]> {
  const adapter = options.adapter ? ` + ${options.adapter}` : "";
  const job = {
    ...modelJob(model, options.adapter),
    prompts,
    maxNewTokens: options.maxNewTokens ?? 32,
  };
  return (await runPythonJob(
    "generate.py",
    job,
    `Generation with ${model}${adapter}`,
    z.object({ answers: z.array(z.string()) }),
  ))
    .answers;
}
