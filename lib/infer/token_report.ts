/**
 * Where loss and accuracy part ways: every next-token prediction of a model on chat examples, labelled with
 * the part of the chat its target token belongs to (prompt, answer, end-of-turn token, what the chat template
 * writes after it), and the loss, accuracy and entropy over each set of tokens. The trainer's `loss`,
 * `mean_token_accuracy` and `entropy` (TRL's SFTTrainer) all average over one set: the answer, its end token
 * and the template's tokens after it (`completion`).
 *
 * @module
 */
import { z } from "zod";
import { modelJob, runPythonJob } from "./_python_job.ts";
import type { ScoredModel } from "./score.ts";
import type { Message } from "../data/load_dataset.ts";

/** Where a predicted token sits in the chat. */
export type TokenPart = "prompt" | "answer" | "eos" | "after-eos";

/** One next-token prediction: the logits at `position` scored against the token at `position + 1`. */
export const TokenRowSchema = z.object({
  /** Index of the example in the list given to {@linkcode tokenReport}. */
  example: z.number().int(),
  position: z.number().int(),
  /** The target token's text. */
  token: z.string(),
  part: z.enum(["prompt", "answer", "eos", "after-eos"]),
  /** −log p(token), nats. */
  loss: z.number(),
  /** p(token) = exp(−loss). */
  prob: z.number(),
  /** The most likely token (greedy decoding's choice). */
  predicted: z.string(),
  /** `predicted` is `token` (what `mean_token_accuracy` counts). */
  correct: z.boolean(),
  /** Entropy of the predicted distribution, nats (0: certain; ln(vocabulary size): uniform). */
  entropy: z.number(),
});
/** One next-token prediction. */
export type TokenRow = z.infer<typeof TokenRowSchema>;

/** Mean loss, accuracy and entropy over a set of tokens (pooled over examples, like the trainer's batch). */
export interface TokenStats {
  tokens: number;
  /** Mean −log p, nats (the trainer's `loss` over this set). */
  loss: number;
  /** Share of tokens that are the model's top choice (`mean_token_accuracy`). */
  accuracy: number;
  /** Mean entropy, nats (TRL's `entropy`). */
  entropy: number;
}

/** What {@linkcode tokenReport} measured. */
export interface TokenReport {
  rows: TokenRow[];
  /** Answer + eos + after-eos: the tokens the trainer's loss, accuracy and entropy cover. */
  completion: TokenStats;
  /** The answer's own text. */
  answer: TokenStats;
  /** The end-of-turn token and what the chat template writes after it (eos + after-eos). */
  end: TokenStats;
  /** The prompt, which the completion-only loss leaves out. */
  prompt: TokenStats;
  /** Every token after the first (prompt and completion). */
  all: TokenStats;
  vocabSize: number;
  eosToken: string;
}

/** A chat example: a question (or conversation) and the expected answer. */
export interface TokenReportExample {
  prompt: string | Message[];
  answer: string;
}

/**
 * Mean loss, accuracy and entropy over the rows whose part is one of `parts`.
 *
 * @param rows Rows of a {@linkcode TokenReport}.
 * @param parts The parts to pool.
 * @returns The means (NaN when no row matches; `tokens` is then 0).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenStats, type TokenRow } from "./token_report.ts";
 * const row = (part: TokenRow["part"], loss: number, correct: boolean): TokenRow =>
 *   ({ example: 0, position: 0, token: "x", part, loss, prob: Math.exp(-loss), predicted: "x", correct, entropy: 1 });
 * const rows = [row("answer", 0.1, true), row("eos", 4.3, true), row("prompt", 9, false)];
 * const s = tokenStats(rows, ["answer", "eos"]);
 * assert.equal(s.tokens, 2);
 * assert.ok(Math.abs(s.loss - 2.2) < 1e-12);
 * assert.equal(s.accuracy, 1);
 * ```
 */
export function tokenStats(rows: readonly TokenRow[], parts: readonly TokenPart[]): TokenStats {
  const set = rows.filter((r) => parts.includes(r.part));
  const mean = (f: (r: TokenRow) => number) => set.reduce((s, r) => s + f(r), 0) / set.length;
  return {
    tokens: set.length,
    loss: mean((r) => r.loss),
    accuracy: mean((r) => (r.correct ? 1 : 0)),
    entropy: mean((r) => r.entropy),
  };
}

/**
 * Every next-token prediction of a model (with an optional adapter) on chat examples, through the model's
 * chat template, with the loss, accuracy and entropy over the answer, the end tokens, the completion (what
 * the trainer reports) and the prompt.
 *
 * @param model The model folder (or Hub id) and an optional adapter folder.
 * @param examples Questions with their expected answers.
 * @returns The rows and the means over each token set.
 * @throws {Error} When no example is given, or `Token report for <model> failed: <the Python error>` when the
 * model or adapter cannot load.
 *
 * @example The trainer's token set is the answer plus the end tokens
 * ```ts
 * import assert from "node:assert/strict";
 * import { tokenReport } from "./token_report.ts";
 * const r = await tokenReport({ model: "data/models/ince-tiny" }, [{ prompt: "Write 3 in English words.", answer: "three" }]);
 * assert.deepEqual(r.rows.filter((x) => x.part !== "prompt").map((x) => [x.token, x.part]),
 *   [["three", "answer"], ["<|im_end|>", "eos"], ["\n", "after-eos"]]);
 * assert.equal(r.completion.tokens, r.answer.tokens + r.end.tokens);
 * ```
 */
export async function tokenReport(
  model: ScoredModel,
  examples: readonly TokenReportExample[],
): Promise<TokenReport> {
  if (examples.length === 0) {
    throw new Error("tokenReport: no examples given; pass at least one {prompt, answer}.");
  }
  const what = `Token report for ${model.model}${model.adapter ? ` + ${model.adapter}` : ""}`;
  const schema = z.object({
    rows: z.array(TokenRowSchema),
    vocabSize: z.number().int(),
    eosToken: z.string(),
  });
  const { rows, vocabSize, eosToken } = await runPythonJob(
    "token_report.py",
    { ...modelJob(model.model, model.adapter), examples },
    what,
    schema,
  );
  return {
    rows,
    completion: tokenStats(rows, ["answer", "eos", "after-eos"]),
    answer: tokenStats(rows, ["answer"]),
    end: tokenStats(rows, ["eos", "after-eos"]),
    prompt: tokenStats(rows, ["prompt"]),
    all: tokenStats(rows, ["prompt", "answer", "eos", "after-eos"]),
    vocabSize,
    eosToken,
  };
}
