/**
 * Chat rows' completion losses, each row alone, and the same rows laid end to end with positions and attention
 * running on across them (`python/row_losses.py`): the reference that shows a padding-free or packed batch keeps its
 * rows apart (its loss equals the rows' losses alone), and what it would be if they mixed.
 *
 * @module
 */
import { z } from "zod";
import { absPath, runPythonJob } from "../infer/_python_job.ts";

/** One chat row: the prompt's messages and the answer. */
export interface ChatRow {
  messages: { role: string; content: string }[];
  answer: string;
}

const Part = z.object({ lossSum: z.number(), labelTokens: z.number() });
const RowLossesSchema = z.object({ alone: z.array(Part), mixed: z.array(Part) });

/** Summed completion losses (nats) and completion tokens, per row. */
export type RowLosses = z.infer<typeof RowLossesSchema>;

/**
 * Each row's summed completion loss and token count, alone and when the rows run into each other, with the base
 * model (float32; the loss is the trainer's: completion tokens only, prompt masked).
 *
 * @param modelDir A local model folder.
 * @param rows Chat rows.
 * @returns `alone` and `mixed`, one entry per row.
 * @throws {Error} `Row losses with <model> failed: …`.
 *
 * @example The first row sees nothing before it either way; the second one does when rows mix
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowLosses } from "./row_losses.ts";
 * const rows = [
 *   { messages: [{ role: "user", content: "Write 7 in English words." }], answer: "seven" },
 *   { messages: [{ role: "user", content: "Write 12 in Turkish words." }], answer: "on iki" },
 * ];
 * const r = await rowLosses("data/models/ince-tiny", rows);
 * assert.ok(Math.abs(r.alone[0].lossSum - r.mixed[0].lossSum) < 1e-4); // float32 rounding only
 * assert.ok(Math.abs(r.alone[1].lossSum - r.mixed[1].lossSum) > 1e-3);
 * ```
 */
export async function rowLosses(modelDir: string, rows: readonly ChatRow[]): Promise<RowLosses> {
  return await runPythonJob(
    "train/python/row_losses.py",
    { model: absPath(modelDir), rows },
    `Row losses with ${modelDir}`,
    RowLossesSchema,
  );
}
