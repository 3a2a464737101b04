/**
 * The prompts an alignment run works on (`data/datasets/align-*.jsonl`): reading them with zod (errors name
 * `file:line` and the field) and the leakage check, {@linkcode assertDisjoint}, that keeps held-out prompts
 * out of training.
 *
 * @module
 */
import { z } from "zod";
import type { Message } from "../data/load_dataset.ts";
import { normalizeAnswer } from "../eval/match.ts";
import type { AlignPrompt } from "./types.ts";

/** A prompt as the course's files hold it: an {@linkcode AlignPrompt} plus two optional fields. */
export interface AlignPromptRow extends AlignPrompt {
  /** Which phrasing the prompt was made from (held-out phrasings are never training ones). */
  template?: string;
  /** A system prompt to send before the user's message (the context-distillation sets). With one, `expected`
   * is the answer the system prompt asks for (e.g. Turkish words for "Always answer in Turkish."). */
  system?: string;
}

const Text = z.string().refine((s) => s.trim().length > 0, "must not be empty");

/** One row of an `align-*.jsonl` file (zod; unknown fields are dropped). */
export const AlignPromptSchema: z.ZodType<AlignPromptRow> = z.object({
  id: Text,
  prompt: Text,
  category: z.enum(["number", "unsafe", "unknown"]).optional(),
  lang: z.enum(["en", "tr"]).optional(),
  expected: Text.optional(),
  template: Text.optional(),
  system: Text.optional(),
}).refine((r) => r.category !== "number" || r.expected !== undefined, {
  message: 'is missing: a "number" prompt needs the correct answer',
  path: ["expected"],
});

/**
 * Parses JSONL text into alignment prompts.
 *
 * @param text The JSONL content, one `{id, prompt, category?, lang?, expected?, template?, system?}` per line.
 * @param path The file name, for error messages.
 * @returns The prompts, in file order.
 * @throws {Error} One line, `path:line: field "…" …`: bad JSON, a missing or empty field, a category other than
 * number/unsafe/unknown, a number prompt without `expected`, a repeated id, or no rows at all.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAlignPrompts } from "./align_prompts.ts";
 * const rows = parseAlignPrompts(
 *   '{"id": "a", "prompt": "Write 7 in words.", "category": "number", "lang": "en", "expected": "seven"}\n',
 *   "mini.jsonl",
 * );
 * assert.equal(rows[0].expected, "seven");
 * assert.throws(
 *   () => parseAlignPrompts('{"id": "b", "prompt": "Saat kaç?", "category": "weather"}', "bad.jsonl"),
 *   /^Error: bad\.jsonl:1: field "category": /,
 * );
 * ```
 */
export function parseAlignPrompts(text: string, path: string): AlignPromptRow[] {
  const rows: AlignPromptRow[] = [];
  const lineOfId = new Map<string, number>();
  text.split("\n").forEach((line, i) => {
    if (!line.trim()) return;
    const where = `${path}:${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      const message = (e as Error).message.replace(/\s+/g, " ");
      throw new Error(`${where}: not valid JSON (${message}). Each line must be one JSON object.`);
    }
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new Error(`${where}: each line must be a JSON object {id, prompt, category?, lang?, expected?}.`);
    }
    const parsed = AlignPromptSchema.safeParse(row);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = issue.path.join(".") || "(row)";
      const missing = (row as Record<string, unknown>)[String(issue.path[0])] === undefined;
      // The one custom issue on a missing field (a number prompt without `expected`) says why it is needed.
      const missingWhy = issue.code === "custom" ? ` ${issue.message}` : " is missing";
      const what = missing ? missingWhy : `: ${issue.message}`;
      throw new Error(
        `${where}: field "${field}"${what} (a row is {id, prompt, category?, lang?, expected?, template?, system?}).`,
      );
    }
    const first = lineOfId.get(parsed.data.id);
    if (first !== undefined) {
      const id = JSON.stringify(parsed.data.id);
      throw new Error(`${where}: field "id" ${id} repeats line ${first}'s; give each row its own id.`);
    }
    lineOfId.set(parsed.data.id, i + 1);
    rows.push(parsed.data);
  });
  if (rows.length === 0) throw new Error(`${path}: no rows. A prompt file needs at least one JSON line.`);
  return rows;
}

/**
 * Reads and validates an alignment prompt file (`data/datasets/align-*.jsonl` or your own).
 *
 * @param path The `.jsonl` file.
 * @returns The prompts, in file order.
 * @throws {Error} One line: a missing file, or what {@linkcode parseAlignPrompts} reports.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { projectRoot } from "../env/paths.ts";
 * import { loadAlignPrompts } from "./align_prompts.ts";
 * const train = loadAlignPrompts(`${projectRoot()}/data/datasets/align-train.jsonl`);
 * assert.deepEqual(
 *   ["number", "unsafe", "unknown"].map((c) => train.filter((p) => p.category === c).length),
 *   [60, 40, 30],
 * );
 * ```
 */
export function loadAlignPrompts(path: string): AlignPromptRow[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch {
    throw new Error(`${path}: no such prompt file. Check the path (it is relative to ${Deno.cwd()}).`);
  }
  return parseAlignPrompts(text, path);
}

/** What {@linkcode assertDisjoint} compares: a prompt, a row with a `prompt`, or a chat row (its user turns). */
export type PromptLike = string | { id?: string | number; prompt: string } | {
  id?: string | number;
  messages: readonly Message[];
};

/** Options for {@linkcode assertDisjoint}. */
export interface AssertDisjointOptions {
  /** What the training list is called in the message (default `"training"`). */
  trainName?: string;
  /** What the held-out list is called in the message (default `"held-out"`). */
  heldOutName?: string;
}

function _texts(item: PromptLike, list: string, index: number): string[] {
  if (typeof item === "string") return [item];
  if (typeof item === "object" && item !== null) {
    if ("prompt" in item && typeof item.prompt === "string") return [item.prompt];
    if ("messages" in item && Array.isArray(item.messages)) {
      return item.messages.filter((m) => m?.role === "user").map((m) => String(m.content));
    }
  }
  throw new Error(
    `assertDisjoint: ${list}[${index}] is neither a string, a {prompt} row nor a {messages} row; ` +
      "pass prompts in one of those shapes.",
  );
}

function _label(list: string, index: number, item: PromptLike): string {
  const id = typeof item === "object" && item.id !== undefined ? `, id ${JSON.stringify(item.id)}` : "";
  return `${list}[${index}]${id}`;
}

/**
 * The leakage check: throws when a held-out prompt is also a training prompt, compared after
 * {@linkcode normalizeAnswer} (case with Turkish rules, punctuation, spaces), so "Saat kaç?" and "saat kaç"
 * are the same prompt. For chat rows (`{messages}`, as an SFT file holds them) every user turn counts.
 *
 * @param train The prompts (or rows) trained on.
 * @param heldOut The prompts (or rows) the metrics are computed on.
 * @param options Names for the two lists in the message.
 * @throws {Error} One line naming the first shared prompt (in held-out order) and where it is in both lists,
 * or an item of another shape.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { assertDisjoint } from "./align_prompts.ts";
 * assertDisjoint(["Write 7 in words."], [{ id: "h1", prompt: "Write 8 in words." }]);
 * const sft = [{
 *   messages: [{ role: "user" as const, content: "Saat kaç?" }, { role: "assistant" as const, content: "Bilmiyorum." }],
 * }];
 * assert.throws(
 *   () => assertDisjoint(sft, ["saat kaç"]),
 *   /^Error: Held-out prompt "saat kaç" \(held-out\[0\]\) is also a training prompt \(training\[0\]\)/,
 * );
 * ```
 */
export function assertDisjoint(
  train: readonly PromptLike[],
  heldOut: readonly PromptLike[],
  options: AssertDisjointOptions = {},
): void {
  const trainName = options.trainName ?? "training";
  const heldOutName = options.heldOutName ?? "held-out";
  const seen = new Map<string, number>();
  train.forEach((item, i) => {
    for (const text of _texts(item, trainName, i)) {
      if (!seen.has(normalizeAnswer(text))) seen.set(normalizeAnswer(text), i);
    }
  });
  heldOut.forEach((item, i) => {
    for (const text of _texts(item, heldOutName, i)) {
      const at = seen.get(normalizeAnswer(text));
      if (at === undefined) continue;
      const held = _label(heldOutName, i, item);
      const trained = _label(trainName, at, train[at]);
      throw new Error(
        `Held-out prompt ${JSON.stringify(text)} (${held}) is also a training prompt (${trained}): ` +
          "remove it from one of the two sets, or the held-out score measures memory.",
      );
    }
  });
}
