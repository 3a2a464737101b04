import assert from "node:assert/strict";
import { projectRoot } from "../lib/env/paths.ts";
import { normalizeAnswer } from "../lib/eval/match.ts";
import {
  detectLanguage,
  glossaryIndex,
  glossaryPrompt,
  loadGlossary,
  loadGlossaryQuestions,
  retrieveDefinition,
  scoreGlossaryAnswers,
} from "../lib/projects/glossary.ts";
import { bm25Index, bm25Score, bm25Search, bm25TermScore } from "../lib/retrieval/bm25.ts";
import { searchTokens } from "../lib/retrieval/search_tokens.ts";

const DATA = `${projectRoot()}/data/datasets`;
const glossary = loadGlossary(`${DATA}/glossary.jsonl`);
const train = loadGlossaryQuestions(`${DATA}/glossary-train.jsonl`);
const heldout = loadGlossaryQuestions(`${DATA}/glossary-heldout.jsonl`);

Deno.test("held-out glossary questions never appear in training: no question, no phrasing, no alias", () => {
  const trained = new Set(train.map((q) => normalizeAnswer(q.question)));
  for (const q of heldout) assert.ok(!trained.has(normalizeAnswer(q.question)), `trained on "${q.question}"`);
  const trainTemplates = new Set(train.map((q) => q.template));
  for (const q of heldout) assert.ok(!trainTemplates.has(q.template), q.template);
  // A phrasing is the question with its term removed: no held-out phrasing is a training phrasing.
  const phrasing = (q: { question: string; term: string }) => q.question.replace(q.term, "{t}");
  const trainPhrasings = new Set(train.map(phrasing));
  for (const q of heldout.filter((q) => !q.template.endsWith("alias"))) {
    assert.ok(!trainPhrasings.has(phrasing(q)));
  }
  for (const q of train) {
    for (const e of glossary) {
      assert.ok(!q.question.includes(e.aliases[q.lang]), `alias in training: ${q.question}`);
    }
  }
});

Deno.test("every question's answer is its term's definition in the question's language", () => {
  const byTerm = new Map(glossary.map((e) => [e.term, e]));
  assert.equal(byTerm.size, glossary.length, "terms are unique");
  for (const q of [...train, ...heldout]) assert.equal(q.answer, byTerm.get(q.term)![q.lang], q.id);
  for (const e of glossary) {
    assert.equal(train.filter((q) => q.term === e.term).length, 8, e.term);
    assert.equal(heldout.filter((q) => q.term === e.term).length, 6, e.term);
  }
});

Deno.test("bm25TermScore() equals BM25 worked by hand (k1 = 1.2, b = 0.75, Lucene's idf)", () => {
  // N = 3 documents, the term in n = 1 of them: idf = ln(1 + 2.5/1.5) = ln(8/3) = 0.980829.
  // tf = 1 in a 3-term document, mean length 8/3: 0.980829 · 2.2 / (1 + 1.2 · (0.25 + 0.75 · 9/8)) = 0.933113.
  assert.ok(
    Math.abs(bm25TermScore({ tf: 1, df: 1, docLength: 3, avgDocLength: 8 / 3, docCount: 3 }) - 0.933113) <
      1e-6,
  );
  // tf = 2 in a 2-term document, term in 2 of 4 documents, mean length 4, k1 = 2, b = 0.5:
  // idf = ln(1 + 2.5/2.5) = ln 2; 0.693147 · 2 · 3 / (2 + 2 · (0.5 + 0.5 · 0.5)) = 4.158883 / 3.5 = 1.188252.
  assert.ok(
    Math.abs(
      bm25TermScore({ tf: 2, df: 2, docLength: 2, avgDocLength: 4, docCount: 4 }, { k1: 2, b: 0.5 }) -
        1.188252,
    ) < 1e-6,
  );
  assert.equal(bm25TermScore({ tf: 0, df: 1, docLength: 3, avgDocLength: 3, docCount: 3 }), 0);
});

Deno.test("bm25Score() sums the query's distinct terms over an index, as worked by hand", () => {
  const index = bm25Index(["lora trains matrices", "dora trains magnitude", "nf4 levels"]);
  // "lora" as above (0.933113); "train" is in 2 of 3: idf = ln(1 + 1.5/2.5) = ln 1.6 = 0.470004,
  // 0.470004 · 2.2 / 2.3125 = 0.447138. A repeated query term counts once.
  assert.ok(Math.abs(bm25Score(index, "LoRA trains? lora", 0) - (0.933113 + 0.447138)) < 1e-5);
  assert.equal(bm25Score(index, "LoRA", 2), 0);
  assert.deepEqual(bm25Search(index, "trains", { topK: 3 }).map((h) => h.doc), [0, 1, 2]);
  assert.throws(() => bm25Score(index, "lora", 3), RangeError);
});

Deno.test("searchTokens() handles Turkish: apostrophe suffixes, dotted/dotless i, agglutination", () => {
  assert.deepEqual(searchTokens("QLoRA'nın"), ["qlora"]);
  assert.deepEqual(searchTokens("İNCE ince ınce INCE"), ["ince", "ince", "ince", "ince"]);
  assert.deepEqual(searchTokens("matrisleri matris"), ["matri", "matri"]);
  assert.deepEqual(searchTokens("nicemlenmiş nicemleme", { prefixLength: 0 }), ["nicemlenmiş", "nicemleme"]);
  assert.deepEqual(searchTokens("LoRA+ vs LoRA"), ["lora+", "vs", "lora"]);
});

Deno.test("detectLanguage() reads every glossary definition and question in its language", () => {
  for (const e of glossary) {
    assert.equal(detectLanguage(e.en), "en", e.en);
    assert.equal(detectLanguage(e.tr), "tr", e.tr);
  }
  for (const q of [...train, ...heldout]) assert.equal(detectLanguage(q.question), q.lang, q.question);
  const examples: [string, "en" | "tr"][] = [
    ["Bu bir deneme.", "tr"],
    ["Kırk yedi", "tr"],
    ["This is a test.", "en"],
    ["", "en"],
    ["NF4", "en"],
    ["LoRA eğitir.", "tr"],
  ];
  for (const [text, lang] of examples) assert.equal(detectLanguage(text), lang, text);
});

Deno.test("retrieval finds the asked term for every training phrasing; scores count right language and matches", () => {
  const index = glossaryIndex(glossary);
  for (const q of train) {
    assert.equal(retrieveDefinition(index, glossary, q.question).entry.term, q.term, q.question);
  }
  const r = retrieveDefinition(index, glossary, "NF4 nedir?");
  assert.equal(r.answer, glossary.find((e) => e.term === "NF4")!.tr);
  assert.ok(glossaryPrompt("NF4 nedir?", r.passage).startsWith("Glossary: NF4:"));
  const qs = heldout.slice(0, 3);
  const s = scoreGlossaryAnswers(qs, [qs[0].answer, qs[1].answer.toUpperCase() + " ", "kırk yedi"]);
  assert.deepEqual(s, { n: 3, rightLanguage: 2 + Number(qs[2].lang === "tr"), exact: 1, normalized: 2 });
  assert.throws(() => scoreGlossaryAnswers(qs, []), /3 questions/);
});
