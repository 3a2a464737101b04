/**
 * Context distillation ("baking in a system prompt"; Askell et al., 2021, §3.4; Snell et al., 2022): the
 * model answers each prompt *with* a system prompt, and those answers become SFT targets for the same
 * prompts *without* it. After tuning, the model should behave without the system prompt as it did with it
 * — {@linkcode behavesAs} measures how often it does.
 *
 * @module
 */
import type { ChatExample, Message } from "../data/load_dataset.ts";
import { binomialInterval } from "../eval/binomial.ts";
import { normalizedMatch } from "../eval/match.ts";
import type { AlignPrompt } from "./types.ts";
import { ALIGN_RUN_FILES, type AlignRun, writeRunFile } from "./align_run.ts";
import { checkAnswers, userChat } from "./_pipeline.ts";

/**
 * The chats to generate the teacher's answers from: the system prompt, then the user's message.
 *
 * @param system The system prompt to bake in, e.g. `"Always answer in Turkish."`.
 * @param prompts The prompts.
 * @returns One chat per prompt (for `generate(model, chats)`).
 * @throws {Error} When the system prompt is blank.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { withSystemPrompt } from "./context_distillation.ts";
 * assert.deepEqual(withSystemPrompt("Always answer in Turkish.", [{ id: "n1", prompt: "Write 5 in words." }]), [[
 *   { role: "system", content: "Always answer in Turkish." },
 *   { role: "user", content: "Write 5 in words." },
 * ]]);
 * ```
 */
export function withSystemPrompt(system: string, prompts: readonly AlignPrompt[]): Message[][] {
  if (typeof system !== "string" || !system.trim()) {
    throw new Error(`withSystemPrompt: the system prompt is blank; give the instruction to bake in.`);
  }
  return prompts.map((p) => [{ role: "system", content: system }, ...userChat(p)]);
}

/** Options for {@linkcode distillationRows}. */
export interface DistillationRowsOptions {
  /** The prompts (the user's messages, without the system prompt). */
  prompts: readonly AlignPrompt[];
  /** The model's answer to each prompt *with* the system prompt, in the same order. */
  answersWithSystem: readonly string[];
  /** When given, `distill_sft.jsonl` is written in it. */
  run?: AlignRun;
}

/**
 * The SFT rows of context distillation: each prompt alone (no system message) with the answer the model
 * gave when the system prompt was there.
 *
 * @param options Prompts, the answers given with the system prompt, the run folder to write to.
 * @returns One `{id, messages: [user, assistant]}` row per prompt, in order.
 * @throws {Error} One line, when the answers do not match the prompts or one is blank (naming it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { distillationRows } from "./context_distillation.ts";
 * const rows = distillationRows({ prompts: [{ id: "n5", prompt: "Write 5 in words." }], answersWithSystem: ["beş"] });
 * assert.deepEqual(rows, [{
 *   id: "n5",
 *   messages: [{ role: "user", content: "Write 5 in words." }, { role: "assistant", content: "beş" }],
 * }]);
 * assert.throws(() => distillationRows({ prompts: [{ id: "n5", prompt: "Write 5." }], answersWithSystem: [] }), /1 prompts/);
 * ```
 */
export function distillationRows(options: DistillationRowsOptions): ChatExample[] {
  const { prompts, answersWithSystem, run } = options;
  checkAnswers("distillationRows", prompts, { answersWithSystem }, true);
  const rows = prompts.map((p, i) => ({
    id: p.id,
    messages: [...userChat(p), { role: "assistant" as const, content: answersWithSystem[i] }],
  }));
  if (run) writeRunFile(run, ALIGN_RUN_FILES.distillSft, rows);
  return rows;
}

/** What {@linkcode behavesAs} returns: how many answers matched, of how many, and the share with its interval. */
export interface BehavesAsResult {
  /** Answers that matched. */
  same: number;
  /** Answers compared. */
  n: number;
  /** `same / n`. */
  rate: number;
  /** The 95 % Wilson interval's lower end. */
  low: number;
  /** Its upper end. */
  high: number;
}

/** Options for {@linkcode behavesAs}. */
export interface BehavesAsOptions {
  /** When two answers count as the same behaviour (default `normalizedMatch`: case, punctuation, spaces). */
  match?: (a: string, b: string) => boolean;
}

/**
 * How often one model's answers equal another's on the same prompts — e.g. the tuned model *without* the
 * system prompt against the base model *with* it (1 = the system prompt is fully baked in).
 *
 * @param answersA One answer per prompt.
 * @param answersB The other's answers, in the same order.
 * @param options How to compare.
 * @returns Matches, count, share and its 95 % Wilson interval.
 * @throws {Error} When the lists differ in length or are empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { behavesAs } from "./context_distillation.ts";
 * const r = behavesAs(["Beş.", "on", "yedi"], ["beş", "on", "sekiz"]);
 * assert.deepEqual([r.same, r.n], [2, 3]);
 * assert.ok(r.low < 2 / 3 && 2 / 3 < r.high);
 * ```
 */
export function behavesAs(
  answersA: readonly string[],
  answersB: readonly string[],
  options: BehavesAsOptions = {},
): BehavesAsResult {
  if (answersA.length !== answersB.length || answersA.length === 0) {
    throw new Error(
      `behavesAs: ${answersA.length} answers vs ${answersB.length}; give one answer per prompt from each model, same prompts, same order.`,
    );
  }
  const match = options.match ?? normalizedMatch;
  const same = answersA.filter((a, i) => match(a, answersB[i])).length;
  const { rate, low, high } = binomialInterval(same, answersA.length);
  return { same, n: answersA.length, rate, low, high };
}
