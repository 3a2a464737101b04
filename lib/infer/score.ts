/**
 * How good is a model on held-out examples: its mean loss on the answer tokens (what the trainer's
 * eval loss measures) and greedy exact match, for several models in one Python process. Used to
 * compare the same model with full-precision and quantized weights, or with and without an adapter.
 *
 * @module
 */
import { absPath, modelArg, runPythonJob } from "./_python_job.ts";
import type { Message } from "../data/load_dataset.ts";

/** A model to score: a folder (or cached Hub id), optionally with an adapter folder. */
export interface ScoredModel {
  model: string;
  adapter?: string;
}

/** One held-out example: the question (or chat) and the expected answer. */
export interface ScoreExample {
  prompt: string | Message[];
  answer: string;
}

/** What {@linkcode scoreModels} measured for one model. */
export interface ModelScore {
  /** Mean cross-entropy per answer token (nats). */
  loss: number;
  /** Share of greedy answers equal to the expected one (after trimming). */
  exactMatch: number;
  answers: string[];
}

/**
 * Scores each model on the same examples.
 *
 * @param models The models (each with an optional adapter).
 * @param examples Prompts with their expected answers.
 * @returns One score per model, in order.
 * @throws {Error} `Scoring <models> failed: <the Python error's last line>` when a model cannot load.
 *
 * @example Two copies of the built-in model score the same
 * ```ts
 * import assert from "node:assert/strict";
 * import { scoreModels } from "./score.ts";
 * const m = "data/models/ince-tiny";
 * const [a, b] = await scoreModels([{ model: m }, { model: m }], [{ prompt: "Write 3 in English words.", answer: "three" }]);
 * assert.equal(a.loss, b.loss);
 * ```
 */
export async function scoreModels(models: ScoredModel[], examples: ScoreExample[]): Promise<ModelScore[]> {
  if (examples.length === 0) {
    throw new Error("scoreModels: no examples given; pass at least one {prompt, answer}.");
  }
  const job = {
    models: models.map((m) => ({ model: modelArg(m.model), adapter: m.adapter ? absPath(m.adapter) : null })),
    examples,
  };
  const what = `Scoring ${models.map((m) => m.model + (m.adapter ? ` + ${m.adapter}` : "")).join(", ")}`;
  return (await runPythonJob<{ results: ModelScore[] }>("score.py", job, what)).results;
}
