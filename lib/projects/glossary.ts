/**
 * Lesson 05's bilingual glossary assistant: the glossary and its questions (English and Turkish), which
 * language an answer is in, prompts with a retrieved passage, and the project's scores.
 *
 * Over 300 lines because about 100 of them are the two function-word lists that tell the languages apart.
 *
 * @module
 */
import { z } from "zod";
import { writeJsonLines } from "../util/lines.ts";
import { exactMatch, normalizedMatch } from "../eval/match.ts";
import { type Bm25Index, bm25Index, bm25Search } from "../retrieval/bm25.ts";

/** The two languages of the glossary. */
export type GlossaryLang = "en" | "tr";

const Entry = z.object({
  term: z.string().min(1),
  aliases: z.object({ en: z.string(), tr: z.string() }),
  en: z.string().min(1),
  tr: z.string().min(1),
  /** Each definition's length in the built-in model's tokens (measured by the data script). */
  tokens: z.object({ en: z.number().int().positive(), tr: z.number().int().positive() }),
});
/** One glossary term with its definition in both languages. */
export type GlossaryEntry = z.infer<typeof Entry>;

const QuestionRow = z.object({
  id: z.string(),
  term: z.string(),
  lang: z.enum(["en", "tr"]),
  template: z.string(),
  messages: z.tuple([
    z.object({ role: z.literal("user"), content: z.string().min(1) }),
    z.object({ role: z.literal("assistant"), content: z.string().min(1) }),
  ]),
});

/** A question about a term and its expected answer (the definition in the question's language). */
export interface GlossaryQuestion {
  id: string;
  term: string;
  lang: GlossaryLang;
  /** Which phrasing the question was made from (train and held-out phrasings differ). */
  template: string;
  question: string;
  answer: string;
}

function _readJsonl<T>(path: string, schema: z.ZodType<T>): T[] {
  return Deno.readTextFileSync(path).split("\n").filter((l) => l.trim()).map((line, i) => {
    const parsed = schema.safeParse(JSON.parse(line));
    if (!parsed.success) {
      throw new Error(
        `${path}:${i + 1}: ${parsed.error.issues[0].path.join(".")} ${parsed.error.issues[0].message}; ` +
          "regenerate it with data/scripts/make_glossary.py.",
      );
    }
    return parsed.data;
  });
}

/**
 * Reads the glossary (`data/datasets/glossary.jsonl`).
 *
 * @param path The JSONL file.
 * @returns Its entries, in file order.
 * @throws {Error} Naming the line when a row is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadGlossary } from "./glossary.ts";
 * const glossary = loadGlossary("data/datasets/glossary.jsonl");
 * assert.equal(glossary.find((e) => e.term === "NF4")?.aliases.en, "four-bit NormalFloat");
 * ```
 */
export function loadGlossary(path: string): GlossaryEntry[] {
  return _readJsonl(path, Entry);
}

/**
 * Reads a question file (`glossary-train.jsonl` or `glossary-heldout.jsonl`).
 *
 * @param path The JSONL file.
 * @returns One question per row.
 * @throws {Error} Naming the line when a row is malformed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadGlossaryQuestions } from "./glossary.ts";
 * const q = loadGlossaryQuestions("data/datasets/glossary-train.jsonl")[0];
 * assert.deepEqual([q.question, q.lang], ["What is LoRA?", "en"]);
 * ```
 */
export function loadGlossaryQuestions(path: string): GlossaryQuestion[] {
  return _readJsonl(path, QuestionRow).map((r) => ({
    id: r.id,
    term: r.term,
    lang: r.lang,
    template: r.template,
    question: r.messages[0].content,
    answer: r.messages[1].content,
  }));
}

const TR_LETTERS = /[çğışöüÇĞİŞÖÜ]/gu;
const TR_WORDS = new Set([
  "ve",
  "bir",
  "bu",
  "ne",
  "nedir",
  "nasıl",
  "için",
  "ile",
  "mi",
  "mı",
  "mu",
  "mü",
  "da",
  "de",
  "bana",
  "kısaca",
  "demek",
  "demektir",
  "anlama",
  "gelir",
  "açıkla",
  "açıklar",
  "tanımla",
  "terimini",
  "kavramını",
  "hakkında",
  "daha",
  "her",
  "iki",
  "olarak",
  "yerine",
  "modeli",
  "modelin",
  "ağırlığı",
  "eğitir",
  "küçük",
  "tek",
  "cümleyle",
]);
const EN_WORDS = new Set([
  "the",
  "a",
  "an",
  "and",
  "of",
  "to",
  "in",
  "is",
  "are",
  "what",
  "how",
  "does",
  "do",
  "me",
  "you",
  "could",
  "tell",
  "explain",
  "define",
  "briefly",
  "meant",
  "by",
  "mean",
  "one",
  "sentence",
  "each",
  "every",
  "with",
  "on",
  "into",
  "from",
  "than",
  "over",
  "it",
  "its",
  "model",
  "trains",
  "weight",
  "by",
  "when",
  "while",
]);

/**
 * Which of the two languages a text is in: Turkish-only letters (ç ğ ı ö ş ü İ) and common Turkish words
 * count for Turkish, common English words for English; the larger count wins (a tie, e.g. an empty answer
 * or a bare term like "NF4", says English). Enough to tell the glossary's two languages apart — not a
 * general language identifier.
 *
 * @param text A question or an answer.
 * @returns `"tr"` or `"en"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { detectLanguage } from "./glossary.ts";
 * assert.equal(detectLanguage("NF4 nedir?"), "tr");
 * assert.equal(detectLanguage("What is NF4?"), "en");
 * assert.equal(detectLanguage("Rank r iki LoRA matrisinin iç boyutudur."), "tr");
 * ```
 */
export function detectLanguage(text: string): GlossaryLang {
  const words = text.normalize("NFC").toLocaleLowerCase("tr").match(/\p{L}+/gu) ?? [];
  const enWords = text.toLowerCase().match(/\p{L}+/gu) ?? [];
  const tr = (text.normalize("NFC").match(TR_LETTERS)?.length ?? 0) +
    words.filter((w) => TR_WORDS.has(w)).length;
  const en = enWords.filter((w) => EN_WORDS.has(w)).length;
  return tr > en ? "tr" : "en";
}

/**
 * The text of an entry that retrieval indexes and a prompt quotes: the term, then both definitions.
 *
 * @param entry A glossary entry.
 * @returns `"<term>: <English> <Turkish>"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { glossaryPassage } from "./glossary.ts";
 * const p = glossaryPassage({ term: "NF4", en: "NF4 is 4-bit.", tr: "NF4 4 bittir." });
 * assert.equal(p, "NF4: NF4 is 4-bit. NF4 4 bittir.");
 * ```
 */
export function glossaryPassage(entry: Pick<GlossaryEntry, "term" | "en" | "tr">): string {
  return `${entry.term}: ${entry.en} ${entry.tr}`;
}

/**
 * A BM25 index over the glossary's passages ({@linkcode glossaryPassage}; entry i is document i).
 *
 * @param glossary The entries.
 * @returns The index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bm25Search } from "../retrieval/bm25.ts";
 * import { glossaryIndex, loadGlossary } from "./glossary.ts";
 * const glossary = loadGlossary("data/datasets/glossary.jsonl");
 * const hit = bm25Search(glossaryIndex(glossary), "DoRA nedir?")[0];
 * assert.equal(glossary[hit.doc].term, "DoRA");
 * ```
 */
export function glossaryIndex(glossary: readonly GlossaryEntry[]): Bm25Index {
  return bm25Index(glossary.map(glossaryPassage));
}

/**
 * The prompt a model sees: the question alone, or after a retrieved passage.
 *
 * @param question The user's question.
 * @param passage A retrieved passage, or none.
 * @returns The prompt text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { glossaryPrompt } from "./glossary.ts";
 * assert.equal(glossaryPrompt("NF4 nedir?"), "NF4 nedir?");
 * assert.equal(glossaryPrompt("NF4 nedir?", "NF4: …"), "Glossary: NF4: …\nQuestion: NF4 nedir?");
 * ```
 */
export function glossaryPrompt(question: string, passage?: string): string {
  return passage === undefined ? question : `Glossary: ${passage}\nQuestion: ${question}`;
}

/** What retrieval found for a question. */
export interface Retrieved {
  /** The best-scoring entry. */
  entry: GlossaryEntry;
  /** The question's language as {@linkcode detectLanguage} reads it. */
  lang: GlossaryLang;
  /** The entry's definition in that language: "retrieval alone" answers with this. */
  answer: string;
  /**
   * What a prompt quotes: `"<term>: <definition in the question's language>"` (one language keeps prompts
   * short for a 256-token model).
   */
  passage: string;
}

/**
 * Retrieval for one question: BM25's best entry (over both languages' definitions), and its definition in
 * the question's language.
 *
 * @param index From {@linkcode glossaryIndex}.
 * @param glossary The same entries.
 * @param question The question.
 * @returns The entry, the language, the answer and the passage.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { glossaryIndex, loadGlossary, retrieveDefinition } from "./glossary.ts";
 * const glossary = loadGlossary("data/datasets/glossary.jsonl");
 * const r = retrieveDefinition(glossaryIndex(glossary), glossary, "Uzmanlar karışımı ne demektir?");
 * assert.equal(r.entry.term, "MoE");
 * assert.equal(r.answer, r.entry.tr);
 * ```
 */
export function retrieveDefinition(
  index: Bm25Index,
  glossary: readonly GlossaryEntry[],
  question: string,
): Retrieved {
  const entry = glossary[bm25Search(index, question)[0].doc];
  const lang = detectLanguage(question);
  return { entry, lang, answer: entry[lang], passage: `${entry.term}: ${entry[lang]}` };
}

/** Counts for one way of answering the held-out questions. */
export interface GlossaryScore {
  n: number;
  /** Answers in the question's language ({@linkcode detectLanguage}). */
  rightLanguage: number;
  /** Answers equal to the definition ({@linkcode exactMatch}). */
  exact: number;
  /** Answers equal after normalising case, punctuation and spaces ({@linkcode normalizedMatch}). */
  normalized: number;
}

/**
 * Scores answers against the questions' definitions: right language, exact and normalised match.
 *
 * @param questions The questions, with their language and expected answer.
 * @param answers One answer per question.
 * @returns The counts (rates are counts / n).
 * @throws {Error} When the lists differ in length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scoreGlossaryAnswers } from "./glossary.ts";
 * const q = [{ lang: "tr" as const, answer: "Nicemleme ağırlıkları az bitle saklar." }];
 * assert.deepEqual(scoreGlossaryAnswers(q, ["nicemleme ağırlıkları az bitle saklar"]),
 *   { n: 1, rightLanguage: 1, exact: 0, normalized: 1 });
 * ```
 */
export function scoreGlossaryAnswers(
  questions: readonly Pick<GlossaryQuestion, "lang" | "answer">[],
  answers: readonly string[],
): GlossaryScore {
  if (questions.length !== answers.length) {
    throw new Error(`scoreGlossaryAnswers: ${answers.length} answers for ${questions.length} questions.`);
  }
  const score = { n: questions.length, rightLanguage: 0, exact: 0, normalized: 0 };
  questions.forEach((q, i) => {
    score.rightLanguage += Number(detectLanguage(answers[i]) === q.lang);
    score.exact += Number(exactMatch(answers[i], q.answer));
    score.normalized += Number(normalizedMatch(answers[i], q.answer));
  });
  return score;
}

/** Options for {@linkcode writeGlossaryChats}. */
export interface GlossaryChatsOptions {
  /**
   * The passage to put before each question (e.g. what retrieval found): the question is then written
   * twice, once bare and once with its passage, so one adapter learns both prompt forms.
   */
  passage?: (question: string) => string;
}

/**
 * Writes questions as a chat dataset (JSONL, messages shape) the trainer reads: each question as a user
 * turn ({@linkcode glossaryPrompt}), its definition as the assistant's.
 *
 * @param path The file to write.
 * @param questions The questions.
 * @param options A passage to add (each question then appears bare and with its passage).
 * @returns How many rows were written.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { writeGlossaryChats } from "./glossary.ts";
 * const path = Deno.makeTempFileSync({ suffix: ".jsonl" });
 * const q = { id: "a", term: "NF4", lang: "en" as const, template: "t", question: "What is NF4?", answer: "4 bits." };
 * assert.equal(writeGlossaryChats(path, [q], { passage: () => "NF4: 4 bits." }), 2);
 * ```
 */
export function writeGlossaryChats(
  path: string,
  questions: readonly GlossaryQuestion[],
  options: GlossaryChatsOptions = {},
): number {
  const rows = questions.flatMap((q) => {
    const chat = (id: string, prompt: string) => ({
      id,
      messages: [{ role: "user", content: prompt }, { role: "assistant", content: q.answer }],
    });
    const bare = chat(q.id, glossaryPrompt(q.question));
    return options.passage
      ? [bare, chat(`${q.id}-ctx`, glossaryPrompt(q.question, options.passage(q.question)))]
      : [bare];
  });
  return writeJsonLines(path, rows);
}
