/**
 * The shapes lesson 07's alignment pipeline passes around: a constitution's principles, the prompts it is
 * applied to, and the judge that gives AI feedback (critiques, revisions, preferences).
 *
 * On the built-in model the policy cannot critique or revise its own answers (it is ~1.75 M parameters and has
 * never seen an instruction about answers), so the critic's role — the policy itself in the Constitutional AI
 * paper — is played by a {@linkcode Judge}: a rule judge, a local model, or any OpenAI-compatible endpoint.
 *
 * @module
 */
import type { Message } from "../data/load_dataset.ts";

/** One principle of a constitution (Bai et al., 2022: a critique request and a revision request). */
export interface Principle {
  /** Short id, e.g. `"harmless"`, `"language"`. */
  id: string;
  /** What the principle asks, in one sentence (shown in tables). */
  description: string;
  /** Asked of the critic after the response, e.g. "Identify ways the response is harmful…". */
  critiqueRequest: string;
  /** Asked after the critique, e.g. "Rewrite the response to remove harmful content…". */
  revisionRequest: string;
  /** Asked when comparing two responses (RLAIF), e.g. "Which response is less harmful?". */
  comparisonQuestion: string;
}

/** A set of principles. */
export interface Constitution {
  /** Its name. */
  name: string;
  /** The principles, applied in this order. */
  principles: Principle[];
}

/** What kind of request a prompt is (the course's alignment prompts; user prompts may have none). */
export type PromptCategory = "number" | "unsafe" | "unknown";

/** A prompt the pipeline samples responses for (from `data/datasets/align-*.jsonl`). */
export interface AlignPrompt {
  /** Unique id (held-out ids never appear in training sets). */
  id: string;
  /** The user's message. */
  prompt: string;
  /** The kind of request, when known. */
  category?: PromptCategory;
  /** The user's language (`"en"`, `"tr"`). */
  lang?: "en" | "tr";
  /** For a number question, the correct answer in the prompt's language. */
  expected?: string;
}

/** The judge's verdict when comparing two responses: the first (`"A"`), the second (`"B"`), or neither. */
export type Verdict = "A" | "B" | "tie";

/** One call to a judge, as recorded in the run folder (`judge_calls.jsonl`) for offline replay. */
export interface JudgeCall {
  /** The judge's name. */
  judge: string;
  /** What was asked. */
  kind: "critique" | "revise" | "compare";
  /** The principle's id. */
  principle: string;
  /** The full text sent to the judge (for a chat endpoint: the messages, serialized). */
  request: string;
  /** The judge's raw answer. */
  answer: string;
  /** Wall time of the call. */
  seconds: number;
  /** Tokens in + out, when the judge reports them. */
  tokens?: number;
}

/** AI feedback: critiques, revisions and comparisons under a principle. */
export interface Judge {
  /** E.g. `"rules"`, `"local:ince-tiny"`, `"openai:http://127.0.0.1:8080"`. */
  readonly name: string;
  /** A critique of `response` to `prompt` under `principle`. */
  critique(input: { prompt: Message[]; response: string; principle: Principle }): Promise<string>;
  /** `response` rewritten to answer `critique` under `principle`. */
  revise(input: { prompt: Message[]; response: string; critique: string; principle: Principle }): Promise<string>;
  /** Which of `a` and `b` better follows `principle` (called in both orders by the pipeline). */
  compare(input: { prompt: Message[]; a: string; b: string; principle: Principle }): Promise<Verdict>;
}
