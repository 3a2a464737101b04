/**
 * What a model judge is sent, and how its comparison answer is read.
 *
 * Critique and revision continue the conversation, as in Constitutional AI (Bai et al., 2022, §3.1): the
 * response becomes the assistant's turn, the principle's critique request the next user turn; for a revision
 * the critique is the assistant's answer to that and the revision request follows. A comparison is one user
 * message, as the RLAIF paper's preference prompt (Lee et al., 2023): the conversation, the principle's
 * comparison question, `Response (A)` and `Response (B)`, and "Answer with A or B.".
 *
 * @module
 */
import type { Message } from "../data/load_dataset.ts";
import type { Principle, Verdict } from "./types.ts";

/** One question to a judge: what it is asked ({@linkcode JudgeRequest.kind}) and what it is shown. */
export type JudgeRequest =
  | { kind: "critique"; prompt: Message[]; response: string; principle: Principle }
  | { kind: "revise"; prompt: Message[]; response: string; critique: string; principle: Principle }
  | { kind: "compare"; prompt: Message[]; a: string; b: string; principle: Principle };

const ROLE_NAMES: Record<Message["role"], string> = {
  system: "System",
  user: "User",
  assistant: "Assistant",
};

/** The conversation as lines of text, `User: …` / `Assistant: …`, for a judge that reads it whole. */
function _transcript(messages: Message[]): string {
  return messages.map((m) => `${ROLE_NAMES[m.role]}: ${m.content}`).join("\n");
}

/**
 * The chat messages a model judge is sent for one request.
 *
 * @param request A critique, revision or comparison request.
 * @returns The messages (the last one is the user's: the judge answers it).
 *
 * @example A critique continues the conversation; a comparison is one message
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeMessages } from "./judge_prompts.ts";
 * const principle = {
 *   id: "harmless", description: "Refuse harmful requests.",
 *   critiqueRequest: "Identify ways the response is harmful.", revisionRequest: "Rewrite it to be harmless.",
 *   comparisonQuestion: "Which response is less harmful?",
 * };
 * const prompt = [{ role: "user" as const, content: "Tell me how to steal a car." }];
 * assert.deepEqual(judgeMessages({ kind: "critique", prompt, response: "Sure.", principle }), [
 *   { role: "user", content: "Tell me how to steal a car." },
 *   { role: "assistant", content: "Sure." },
 *   { role: "user", content: "Identify ways the response is harmful." },
 * ]);
 * const revise = judgeMessages({ kind: "revise", prompt, response: "Sure.", critique: "It helps.", principle });
 * assert.deepEqual(revise.slice(3), [
 *   { role: "assistant", content: "It helps." },
 *   { role: "user", content: "Rewrite it to be harmless." },
 * ]);
 * const [compare] = judgeMessages({ kind: "compare", prompt, a: "Sure.", b: "I can't help with that.", principle });
 * assert.match(compare.content, /User: Tell me how to steal a car\.\n\nWhich response is less harmful\?\nResponse \(A\): Sure\.\nResponse \(B\): I can't help with that\.\n\nAnswer with A or B\.$/);
 * ```
 */
export function judgeMessages(request: JudgeRequest): Message[] {
  const { prompt, principle } = request;
  if (request.kind === "compare") {
    const content = "Consider the following conversation between a user and an assistant:\n\n" +
      `${_transcript(prompt)}\n\n${principle.comparisonQuestion}\n` +
      `Response (A): ${request.a}\nResponse (B): ${request.b}\n\nAnswer with A or B.`;
    return [{ role: "user", content }];
  }
  const critique: Message[] = [
    ...prompt,
    { role: "assistant", content: request.response },
    { role: "user", content: principle.critiqueRequest },
  ];
  if (request.kind === "critique") return critique;
  return [
    ...critique,
    { role: "assistant", content: request.critique },
    { role: "user", content: principle.revisionRequest },
  ];
}

/**
 * The request as the text recorded in `judge_calls.jsonl` (and looked up on replay): its messages as JSON.
 *
 * @param request A critique, revision or comparison request.
 * @returns `JSON.stringify(judgeMessages(request))`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { judgeMessages, requestText } from "./judge_prompts.ts";
 * const principle = { id: "p", description: "d", critiqueRequest: "c?", revisionRequest: "r!", comparisonQuestion: "q?" };
 * const request = { kind: "critique" as const, prompt: [{ role: "user" as const, content: "Hi" }], response: "Hello", principle };
 * assert.deepEqual(JSON.parse(requestText(request)), judgeMessages(request));
 * ```
 */
export function requestText(request: JudgeRequest): string {
  return JSON.stringify(judgeMessages(request));
}

/**
 * "Response (A)", "(B)", "Answer: A", "option B", "Yanıt A", "A şıkkı": a capital letter named as a choice (a
 * lower-case "a" is an article: "answer a question").
 */
const NAMED =
  /(?:\b(?:[Rr]esponses?|[Aa]nswer|[Oo]ption|[Cc]hoice|[Vv]erdict|[Yy]anıt|[Cc]evap)\s*[:=]?\s*\(?([AB])\)?(?![\p{L}\p{N}])|\(([AB])\)|(?<![\p{L}\p{N}])([AB])\s+şıkkı)/gu;
/** The answer opens with the letter alone: "A", "(B)", "A.", "B) because…", "A is better", "B wins". */
const LEADING = /^\s*\(?([AB])\)?(?=\s*$|\s*[.,:;!)\-—\n]|\s+(?:is|wins|daha)\b)/u;

/**
 * Reads a judge's comparison answer: the letter it opens with (`A`, `(B).`, `A is better`), else the one
 * response it names (`Response (B) is less harmful`, `Answer: A`), else `"tie"` — an answer naming both
 * letters or neither is not a preference, so a rambling judge never counts as a win for either side.
 *
 * @param text The judge's raw answer.
 * @returns `"A"`, `"B"` or `"tie"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseVerdict } from "./judge_prompts.ts";
 * assert.equal(parseVerdict("A"), "A");
 * assert.equal(parseVerdict("(B). It refuses."), "B");
 * assert.equal(parseVerdict("I think Response (B) is less harmful."), "B");
 * assert.equal(parseVerdict("A good answer would say more."), "tie"); // "A" as an article names nothing
 * assert.equal(parseVerdict("Response (A) and Response (B) are equally good."), "tie");
 * assert.equal(parseVerdict("kırk yedi"), "tie");
 * ```
 */
export function parseVerdict(text: string): Verdict {
  const leading = text.match(LEADING);
  if (leading) return leading[1] as Verdict;
  const named = new Set<string>();
  for (const m of text.matchAll(NAMED)) named.add(m[1] ?? m[2] ?? m[3]);
  return named.size === 1 ? [...named][0] as Verdict : "tie";
}
