/**
 * Splitting text into search terms for English and Turkish alike: Turkish suffixes after an apostrophe
 * dropped (`LoRA'nın` → `lora`), dotted and dotless i folded together (`I`, `İ`, `ı`, `i` → `i`, so a
 * Turkish and an English lower-casing of the same word meet), and each word cut to its first five letters —
 * the "F5" prefix stemmer that Can et al. (2008, "Information retrieval on Turkish texts", JASIST 59(3))
 * found as good as a full morphological stemmer for Turkish retrieval (`matrisleri`, `matris` → `matri`).
 * Common English and Turkish function words ({@linkcode STOPWORDS}) are dropped: in a question like "What is
 * LoRA?" only `lora` should decide which passage wins.
 *
 * @module
 */

/** Function words of English and Turkish (after i-folding) that {@linkcode searchTokens} drops by default. */
export const STOPWORDS: ReadonlySet<string> = new Set([
  "a",
  "an",
  "and",
  "are",
  "as",
  "at",
  "be",
  "by",
  "can",
  "could",
  "do",
  "does",
  "for",
  "from",
  "how",
  "i",
  "in",
  "into",
  "is",
  "it",
  "its",
  "me",
  "mean",
  "meant",
  "of",
  "on",
  "one",
  "or",
  "tell",
  "than",
  "that",
  "the",
  "this",
  "to",
  "what",
  "when",
  "which",
  "while",
  "with",
  "you",
  "your",
  "acaba",
  "ama",
  "bana",
  "bir",
  "bu",
  "da",
  "daha",
  "de",
  "demek",
  "demektir",
  "gibi",
  "hangi",
  "ile",
  "icin",
  "mi",
  "mu",
  "mü",
  "mısın",
  "misin",
  "nasil",
  "ne",
  "nedir",
  "o",
  "şu",
  "ve",
  "veya",
]);

/** Options for {@linkcode searchTokens}. */
export interface SearchTokensOptions {
  /** Keep only the first N characters of each word (default 5; 0 keeps whole words). */
  prefixLength?: number;
  /** Words to drop, compared before cutting (default {@linkcode STOPWORDS}; an empty set keeps all). */
  stopwords?: ReadonlySet<string>;
}

/**
 * The search terms of a text: NFC, apostrophe suffixes dropped, i-folded lower case, split into runs of
 * letters and digits (a trailing `+` stays, so `LoRA+` is not `LoRA`), stopwords dropped, each cut to
 * `prefixLength`.
 *
 * @param text The text (a document or a query).
 * @param options How long a term may be.
 * @returns The terms, in order, repeats kept.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { searchTokens } from "./search_tokens.ts";
 * assert.deepEqual(searchTokens("LoRA'nın matrisleri NASIL eğitilir?"), ["lora", "matri", "eğiti"]);
 * assert.deepEqual(searchTokens("What is LoRA+?"), ["lora+"]);
 * assert.deepEqual(searchTokens("What is LoRA+?", { stopwords: new Set() }), ["what", "is", "lora+"]);
 * ```
 */
export function searchTokens(text: string, options: SearchTokensOptions = {}): string[] {
  const prefixLength = options.prefixLength ?? 5;
  const folded = text.normalize("NFC")
    .replace(/(\p{L})['’]\p{L}+/gu, "$1")
    .replace(/[Iİı]/g, "i")
    .replace(/i\u0307/g, "i")
    .toLowerCase();
  const stop = options.stopwords ?? STOPWORDS;
  const words = (folded.match(/[\p{L}\p{N}]+\+*/gu) ?? []).filter((w) => !stop.has(w));
  return prefixLength > 0 ? words.map((w) => [...w].slice(0, prefixLength).join("")) : words;
}
