/**
 * The rows the trainer reads: a loaded dataset (already validated by {@linkcode loadDataset}) turned into
 * canonical JSON lines in the run folder — `{prompt, completion}` chat rows (the prompt is every message
 * but the last, the completion the assistant's answer) for supervised fine-tuning, `{prompt, chosen,
 * rejected}` for DPO. TypeScript is the one validator: the trainer reads only these files.
 *
 * @module
 */
import type { Dataset } from "./load_dataset.ts";

/** The training stage a dataset feeds. */
export type TrainingStage = "sft" | "dpo";

/**
 * A dataset's rows in the trainer's canonical form, after checking that its shape fits the stage.
 *
 * @param dataset A loaded dataset.
 * @param stage `"sft"` (chat shapes) or `"dpo"` (preference pairs).
 * @returns One plain object per example.
 * @throws {Error} `<file>: … rows cannot train stage "<stage>"` naming the shape it needs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDataset } from "./load_dataset.ts";
 * import { trainingRows } from "./training_rows.ts";
 * const ds = parseDataset('{"instruction":"Write 3.","output":"three"}', "a.jsonl");
 * assert.deepEqual(trainingRows(ds, "sft"), [
 *   { prompt: [{ role: "user", content: "Write 3." }], completion: [{ role: "assistant", content: "three" }] },
 * ]);
 * assert.throws(() => trainingRows(ds, "dpo"), /a\.jsonl: alpaca rows cannot train stage "dpo"/);
 * ```
 */
export function trainingRows(dataset: Dataset, stage: TrainingStage): Record<string, unknown>[] {
  if (stage === "dpo") {
    if (dataset.shape !== "preference") {
      throw new Error(
        `${dataset.path}: ${dataset.shape} rows cannot train stage "dpo"; DPO needs preference rows {prompt, chosen, rejected}.`,
      );
    }
    return dataset.examples.map(({ prompt, chosen, rejected }) => ({ prompt, chosen, rejected }));
  }
  if (dataset.shape === "preference") {
    throw new Error(
      `${dataset.path}: preference rows cannot train stage "sft"; use stage "dpo", or chat rows (messages, alpaca, prompt-completion).`,
    );
  }
  return dataset.examples.map(({ messages }) => ({
    prompt: messages.slice(0, -1),
    completion: messages.slice(-1),
  }));
}
