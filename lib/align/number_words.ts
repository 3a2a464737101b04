/**
 * Number words in English and Turkish (0–99, what the built-in model knows), and telling which of the two
 * languages a text is in: the truth the rule judge checks number answers and the language principle against.
 *
 * The words are those of `data/scripts/course_text.py` (`en_words`, `tr_words`), which wrote the numbers
 * datasets: English tens and ones joined by a hyphen ("forty-seven"), Turkish by a space ("kırk yedi").
 *
 * @module
 */

/** A language of the course's alignment prompts. */
export type Lang = "en" | "tr";

// deno-fmt-ignore
const EN_ONES = [
  "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
  "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
];
const EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const TR_ONES = ["sıfır", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz"];
const TR_TENS = ["", "on", "yirmi", "otuz", "kırk", "elli", "altmış", "yetmiş", "seksen", "doksan"];

/**
 * A number from 0 to 99 in words.
 *
 * @param n A whole number, 0 ≤ n ≤ 99.
 * @param lang `"en"` or `"tr"`.
 * @returns e.g. `"forty-seven"`, `"kırk yedi"`.
 * @throws {Error} One line when `n` is not a whole number in 0–99 or `lang` is neither `"en"` nor `"tr"`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { numberWords } from "./number_words.ts";
 * assert.equal(numberWords(47, "en"), "forty-seven");
 * assert.equal(numberWords(47, "tr"), "kırk yedi");
 * assert.equal(numberWords(13, "en"), "thirteen");
 * assert.equal(numberWords(60, "tr"), "altmış");
 * assert.throws(() => numberWords(100, "en"), /^Error: numberWords: 100 is outside 0–99/);
 * ```
 */
export function numberWords(n: number, lang: Lang): string {
  if (!Number.isInteger(n) || n < 0 || n > 99) {
    throw new Error(`numberWords: ${n} is outside 0–99 (the numbers the built-in model knows); pass 0–99.`);
  }
  if (lang === "en") {
    if (n < 20) return EN_ONES[n];
    const ones = n % 10;
    return EN_TENS[Math.floor(n / 10)] + (ones ? `-${EN_ONES[ones]}` : "");
  }
  if (lang === "tr") {
    if (n < 10) return TR_ONES[n];
    const ones = n % 10;
    return TR_TENS[Math.floor(n / 10)] + (ones ? ` ${TR_ONES[ones]}` : "");
  }
  throw new Error(`numberWords: language ${JSON.stringify(lang)} is not "en" or "tr".`);
}

const TURKISH_LETTERS = /[çğıöşüÇĞİÖŞÜ]/;

// Common words that tell the languages apart without Turkish letters. Words of both ("on": Turkish ten,
// English preposition; "her": Turkish "every") are in neither list.
// deno-fmt-ignore
const TR_WORDS = new Set([
  "bir", "iki", "yedi", "sekiz", "dokuz", "yirmi", "otuz", "elli", "seksen", "doksan", "ve", "bu", "ne",
  "nasıl", "bana", "sana", "ona", "beni", "seni", "onu", "ben", "sen", "biz", "siz", "onlar", "de", "da",
  "mi", "mı", "mu", "mü", "bilmiyorum", "yaz", "yazıyla", "sayısını", "sayı", "sayısı", "konuda", "yardımcı",
  "olamam", "için", "ile", "var", "yok", "evet", "hayır", "nedir", "kim", "yarın", "hava", "olacak", "bunu",
  "şunu", "lütfen", "kelimelerle", "türkçe", "ingilizce", "merhaba", "gibi", "daha", "ama", "değil", "şey",
  "kadar", "sonra", "önce", "hiç", "bazı", "neden", "nerede", "hangi", "araba", "kitap", "ev", "okul",
  "anne", "baba", "su", "çay", "ekmek", "elma", "bugün", "dün", "iyi", "kötü", "büyük", "küçük", "yeni",
  "eski", "çok", "az", "tane", "olarak", "olan", "oldu", "olur", "yap", "yapar", "yaptı", "söyle", "anlat",
  "ver", "al", "git", "gel", "bak",
]);
// deno-fmt-ignore
const EN_WORDS = new Set([
  ...EN_ONES, ...EN_TENS.filter(Boolean),
  "the", "a", "an", "is", "are", "was", "were", "be", "been", "am", "i", "you", "he", "she", "it", "we",
  "they", "me", "him", "us", "them", "my", "your", "his", "its", "our", "their", "this", "that", "these",
  "those", "what", "which", "who", "whom", "where", "when", "why", "how", "to", "of", "in", "at", "by",
  "for", "from", "with", "about", "into", "over", "after", "before", "under", "between", "and", "or", "but",
  "if", "so", "than", "then", "as", "not", "no", "yes", "do", "does", "did", "done", "don't", "can't",
  "cannot", "can", "could", "will", "would", "should", "may", "might", "must", "shall", "have", "has", "had",
  "having", "know", "help", "write", "words", "word", "number", "spell", "out", "english", "turkish",
  "please", "tell", "sorry", "hello", "tomorrow", "weather", "capital", "hundred", "first", "find", "make",
  "get", "go", "come", "see", "look", "give", "take", "say", "said", "think", "want", "like", "use", "just",
  "only", "very", "also", "more", "most", "some", "any", "all", "many", "much", "other", "new", "old",
  "good", "bad", "here", "there", "now", "up", "down", "there's", "it's", "i'm", "i'll", "i've", "you're",
  "that's", "let's", "car", "house", "money", "way", "time", "day", "people", "thing", "answer", "question",
  "sure", "okay", "thanks", "thank", "step", "steps",
]);
/** Letters and pairs Turkish spelling does not use (q, w, x; th, sh, ch, ck, wh, ph, ee, oo). */
const ENGLISH_SPELLING = /[qwx]|th|sh|ch|ck|wh|ph|ee|oo/;
/** Turkish verb endings: present continuous (-iyor, -uyor …) and the infinitive (-mak, -mek). */
const TURKISH_ENDING = /(?:[ıiuü]yor(?:um|sun|uz|sunuz|lar)?|m[ae]k)$/;

/**
 * Whether a text is English or Turkish, by its words: a word with a Turkish letter (ç ğ ı ö ş ü), a common
 * Turkish word or a Turkish verb ending (-iyor, -mak) counts for Turkish; a common English word or English
 * spelling (q, w, x, th, sh, ch, ck, wh, ph, ee, oo) for English; the larger count wins.
 *
 * Unlike the glossary project's `detectLanguage` (lib/projects/glossary.ts), which always picks one of the two
 * for a question about the course, this one says null when unsure: a judge must not credit an answer with a
 * language it does not show.
 *
 * @param text Any text.
 * @returns `"en"`, `"tr"`, or null when neither has more evidence (no known words, a tie, digits only).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { textLanguage } from "./number_words.ts";
 * assert.equal(textLanguage("kırk yedi"), "tr");
 * assert.equal(textLanguage("yedi"), "tr");
 * assert.equal(textLanguage("I don't know."), "en");
 * assert.equal(textLanguage("Bilmiyorum."), "tr");
 * assert.equal(textLanguage("47"), null);
 * ```
 */
export function textLanguage(text: string): Lang | null {
  const nfc = text.normalize("NFC").replace(/[’‘`]/g, "'");
  const locale = TURKISH_LETTERS.test(nfc) ? "tr" : "en";
  let tr = 0, en = 0;
  for (const raw of nfc.match(/[\p{L}']+/gu) ?? []) {
    const word = raw.replace(/^'+|'+$/g, "").toLocaleLowerCase(locale);
    if (!word) continue;
    const stem = word.split("'")[0]; // Turkish suffixes after an apostrophe: "İnce'yim", "Peru'nun"
    if (TURKISH_LETTERS.test(raw) || TR_WORDS.has(word) || TR_WORDS.has(stem) || TURKISH_ENDING.test(word)) {
      tr++;
    } else if (EN_WORDS.has(word) || ENGLISH_SPELLING.test(word)) en++;
  }
  if (tr === en) return null;
  return tr > en ? "tr" : "en";
}
