/**
 * Comparing a model's answer with the expected one: exactly, or after normalising case (Turkish-aware),
 * punctuation and spaces.
 *
 * @module
 */

/**
 * Equal after trimming surrounding whitespace.
 *
 * @param pred The model's answer.
 * @param ref The expected answer.
 * @returns Whether they are equal.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exactMatch } from "./match.ts";
 * assert.equal(exactMatch(" kırk yedi\n", "kırk yedi"), true);
 * assert.equal(exactMatch("Kırk yedi", "kırk yedi"), false);
 * ```
 */
export function exactMatch(pred: string, ref: string): boolean {
  return pred.trim() === ref.trim();
}

const TURKISH = /[çğıöşüÇĞİÖŞÜ]/;

/**
 * A text in the form two answers are compared in: Unicode NFC, lower case (Turkish rules when the text
 * has a Turkish letter — `I` → `ı`, `İ` → `i` — else English), punctuation removed, spaces collapsed.
 *
 * @param text The text.
 * @returns The normalised text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizeAnswer } from "./match.ts";
 * assert.equal(normalizeAnswer("  IRMAK'ın  Işığı! "), "ırmakın ışığı");
 * assert.equal(normalizeAnswer("Low-Rank   Adaptation."), "lowrank adaptation");
 * ```
 */
export function normalizeAnswer(text: string): string {
  const nfc = text.normalize("NFC");
  const lower = nfc.toLocaleLowerCase(TURKISH.test(nfc) ? "tr" : "en");
  return lower.replace(/[\p{P}\p{S}]/gu, "").replace(/\s+/g, " ").trim();
}

/**
 * Equal after {@linkcode normalizeAnswer}.
 *
 * @param pred The model's answer.
 * @param ref The expected answer.
 * @returns Whether they match.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalizedMatch } from "./match.ts";
 * assert.equal(normalizedMatch("Kırk Yedi.", "kırk yedi"), true);
 * assert.equal(normalizedMatch("kırk sekiz", "kırk yedi"), false);
 * ```
 */
export function normalizedMatch(pred: string, ref: string): boolean {
  return normalizeAnswer(pred) === normalizeAnswer(ref);
}

/**
 * The share of answers that match their reference.
 *
 * @param preds The model's answers.
 * @param refs The expected answers, in the same order.
 * @param match How to compare (default {@linkcode exactMatch}).
 * @returns A share in [0, 1] (0 for no answers).
 * @throws {Error} When the lists differ in length.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchRate, normalizedMatch } from "./match.ts";
 * assert.equal(matchRate(["A.", "b"], ["a", "c"], normalizedMatch), 0.5);
 * ```
 */
export function matchRate(
  preds: readonly string[],
  refs: readonly string[],
  match: (pred: string, ref: string) => boolean = exactMatch,
): number {
  if (preds.length !== refs.length) {
    throw new Error(
      `matchRate: ${preds.length} answers vs ${refs.length} references; score the same examples.`,
    );
  }
  return preds.length ? preds.filter((p, i) => match(p, refs[i])).length / preds.length : 0;
}
