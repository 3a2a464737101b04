/**
 * How good is a model on held-out examples: its mean loss on the answer tokens (what the trainer's
 * eval loss measures) and greedy exact match, for several models in one Python process. Used to
 * compare the same model with full-precision and quantized weights, or with and without an adapter.
 *
 * @module
 */
import { z } from "zod";
import { modelJob, runPythonJob } from "./_python_job.ts";
import { type Dataset, loadDataset, type Message } from "../data/load_dataset.ts";

/** A model to score: a folder (or cached Hub id), optionally with an adapter folder. */
export interface ScoredModel {
  model: string;
  adapter?: string;
}

/**
 * One held-out example: a question (or chat) with its expected answer, scored through the chat template;
 * or a plain text, scored as the model was pretrained (loss on every token; the greedy continuation of its
 * first half compared with its second half).
 */
export type ScoreExample = { prompt: string | Message[]; answer: string } | { text: string };

/** What {@linkcode scoreModels} measured for one model. */
export const ModelScoreSchema = z.object({
  /** Mean cross-entropy per answer token (nats). */
  loss: z.number(),
  /** Share of greedy answers (continuations, for a text) equal to the expected one (after trimming). */
  exactMatch: z.number(),
  answers: z.array(z.string()),
  /** Each example's mean loss per answer token (for paired comparisons between models). */
  losses: z.array(z.number()),
});
/** What {@linkcode scoreModels} measured for one model. */
export type ModelScore = z.infer<typeof ModelScoreSchema>;

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
    models: models.map((m) => modelJob(m.model, m.adapter)),
    examples,
  };
  const what = `Scoring ${models.map((m) => m.model + (m.adapter ? ` + ${m.adapter}` : "")).join(", ")}`;
  return (await runPythonJob("score.py", job, what, z.object({ results: z.array(ModelScoreSchema) })))
    .results;
}

/**
 * A chat dataset's examples as {@linkcode ScoreExample}s: the conversation up to the last assistant
 * message is the prompt, that message the expected answer.
 *
 * @param dataset A dataset path (alpaca, messages or prompt/completion JSONL) or a loaded chat dataset.
 * @param options `limit`: the first N examples only.
 * @returns The examples.
 * @throws {Error} For a preference dataset, or a conversation that does not end with an assistant message.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scoreExamples } from "./score.ts";
 * const [first] = scoreExamples("data/datasets/numbers-heldout.jsonl", { limit: 1 });
 * assert.deepEqual(first, { prompt: [{ role: "user", content: "Write 0 in English words." }], answer: "zero" });
 * ```
 */
export function scoreExamples(dataset: string | Dataset, options: { limit?: number } = {}): ScoreExample[] {
  const ds = typeof dataset === "string" ? loadDataset(dataset) : dataset;
  if (ds.shape === "preference") {
    throw new Error(
      `${ds.path}: a preference dataset has no single answer to score; use a chat or alpaca dataset.`,
    );
  }
  return ds.examples.slice(0, options.limit ?? ds.examples.length).map((e, i) => {
    const last = e.messages.at(-1);
    if (last?.role !== "assistant") {
      throw new Error(
        `${ds.path}: example ${e.id ?? i} does not end with an assistant message to compare against.`,
      );
    }
    return { prompt: e.messages.slice(0, -1), answer: last.content };
  });
}

/**
 * How often two models give the same greedy answer (after trimming): the share of answers equal to a
 * reference model's, e.g. a quantized model against its full-precision original.
 *
 * @param answers One model's answers.
 * @param reference The reference answers, in the same order.
 * @returns A share in [0, 1].
 * @throws {Error} When the lists differ in length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { answerAgreement } from "./score.ts";
 * assert.equal(answerAgreement(["a", "b ", "c"], ["a", "b", "d"]), 2 / 3);
 * ```
 */
export function answerAgreement(answers: readonly string[], reference: readonly string[]): number {
  if (answers.length !== reference.length) {
    throw new Error(
      `answerAgreement: ${answers.length} answers vs ${reference.length} reference answers; score the same examples.`,
    );
  }
  if (answers.length === 0) return 0;
  return answers.filter((a, i) => a.trim() === reference[i].trim()).length / answers.length;
}

/**
 * A plain-text file's lines as {@linkcode ScoreExample}s (empty lines skipped).
 *
 * @param path A UTF-8 text file, one example per line.
 * @param options `limit`: the first N lines only.
 * @returns `{ text }` examples.
 * @throws {Error} Naming the file when it cannot be read or has no text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textExamples } from "./score.ts";
 * assert.equal(textExamples("data/datasets/pretraining-sample.txt", { limit: 3 }).length, 3);
 * ```
 */
export function textExamples(path: string, options: { limit?: number } = {}): { text: string }[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new Error(
      `${path}: cannot read (${(e as Error).message}); give a UTF-8 text file, one example per line.`,
    );
  }
  const lines = text.split("\n").map((l) => l.trim()).filter((l) => l.length > 0);
  if (lines.length === 0) throw new Error(`${path}: no text; write one example per line.`);
  return lines.slice(0, options.limit ?? lines.length).map((line) => ({ text: line }));
}
