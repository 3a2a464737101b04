/**
 * Okapi BM25 (Robertson & Zaragoza, 2009, "The Probabilistic Relevance Framework: BM25 and Beyond"): the
 * ranking function of classic search engines, here over a handful of passages in memory.
 *
 * For a query term q in document D:
 * `idf(q) · tf·(k1 + 1) / (tf + k1·(1 − b + b·|D|/avgdl))`, with `idf(q) = ln(1 + (N − n + 0.5)/(n + 0.5))`
 * (Lucene's form, never negative): tf = how often q occurs in D, |D| = D's length in terms, avgdl = the
 * mean length, N = documents, n = documents containing q. A document's score is the sum over the
 * query's distinct terms. k1 (default 1.2) caps how much repeats count; b (default 0.75) how much
 * long documents are discounted.
 *
 * @module
 */
import { searchTokens } from "./search_tokens.ts";

/** The BM25 constants. */
export interface Bm25Params {
  /** Term-frequency saturation (default 1.2). */
  k1?: number;
  /** Length normalisation, 0 (none) to 1 (full) (default 0.75). */
  b?: number;
}

/** Options for {@linkcode bm25Index}. */
export interface Bm25Options extends Bm25Params {
  /** Text → terms (default {@linkcode searchTokens}). */
  tokenize?: (text: string) => string[];
}

/** What BM25 needs to know about one term in one document. */
export interface TermStats {
  /** Occurrences of the term in the document. */
  tf: number;
  /** Documents that contain the term. */
  df: number;
  /** The document's length in terms. */
  docLength: number;
  /** The mean document length. */
  avgDocLength: number;
  /** Documents in the collection. */
  docCount: number;
}

/** An index: each document's term counts and the collection's statistics. */
export interface Bm25Index {
  readonly termCounts: readonly Map<string, number>[];
  readonly lengths: readonly number[];
  readonly avgLength: number;
  readonly df: ReadonlyMap<string, number>;
  readonly k1: number;
  readonly b: number;
  readonly tokenize: (text: string) => string[];
}

/** A ranked document. */
export interface Bm25Hit {
  /** The document's position in the indexed list. */
  doc: number;
  score: number;
}

/**
 * One term's contribution to a document's score.
 *
 * @param stats The term's counts and the collection's statistics.
 * @param params k1 and b.
 * @returns The score (0 when tf is 0).
 *
 * @example A term in 1 of 3 documents, once in a 3-term document (mean length 8/3)
 * ```ts
 * import assert from "node:assert/strict";
 * import { bm25TermScore } from "./bm25.ts";
 * const s = bm25TermScore({ tf: 1, df: 1, docLength: 3, avgDocLength: 8 / 3, docCount: 3 });
 * assert.ok(Math.abs(s - 0.933113) < 1e-6);
 * ```
 */
export function bm25TermScore(stats: TermStats, params: Bm25Params = {}): number {
  const k1 = params.k1 ?? 1.2, b = params.b ?? 0.75;
  const { tf, df, docLength, avgDocLength, docCount } = stats;
  if (tf === 0) return 0;
  const idf = Math.log(1 + (docCount - df + 0.5) / (df + 0.5));
  return (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * docLength) / avgDocLength));
}

/**
 * Indexes documents for {@linkcode bm25Score} and {@linkcode bm25Search}.
 *
 * @param docs The documents' texts.
 * @param options k1, b and the tokenizer.
 * @returns The index.
 * @throws {Error} When there are no documents.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bm25Index } from "./bm25.ts";
 * const index = bm25Index(["LoRA trains matrices", "DoRA trains magnitudes"]);
 * assert.equal(index.df.get("train"), 2);
 * ```
 */
export function bm25Index(docs: readonly string[], options: Bm25Options = {}): Bm25Index {
  if (!docs.length) throw new Error("bm25Index: no documents to index; pass at least one text.");
  const tokenize = options.tokenize ?? ((t: string) => searchTokens(t));
  const termCounts = docs.map((d) => {
    const counts = new Map<string, number>();
    for (const t of tokenize(d)) counts.set(t, (counts.get(t) ?? 0) + 1);
    return counts;
  });
  const lengths = termCounts.map((c) => [...c.values()].reduce((a, n) => a + n, 0));
  const df = new Map<string, number>();
  for (const c of termCounts) for (const t of c.keys()) df.set(t, (df.get(t) ?? 0) + 1);
  const avgLength = lengths.reduce((a, n) => a + n, 0) / docs.length;
  return { termCounts, lengths, avgLength, df, k1: options.k1 ?? 1.2, b: options.b ?? 0.75, tokenize };
}

/**
 * A document's BM25 score for a query: the sum of {@linkcode bm25TermScore} over the query's distinct terms.
 *
 * @param index From {@linkcode bm25Index}.
 * @param query The query text.
 * @param doc The document's position.
 * @returns The score (0 when no query term occurs in the document).
 * @throws {RangeError} When `doc` is not a document of the index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bm25Index, bm25Score } from "./bm25.ts";
 * const index = bm25Index(["LoRA trains matrices", "DoRA trains magnitudes", "NF4 levels"]);
 * assert.ok(bm25Score(index, "What does LoRA train?", 0) > bm25Score(index, "What does LoRA train?", 1));
 * assert.equal(bm25Score(index, "What does LoRA train?", 2), 0);
 * ```
 */
export function bm25Score(index: Bm25Index, query: string, doc: number): number {
  const counts = index.termCounts[doc];
  if (!counts) {
    throw new RangeError(`bm25Score: document ${doc} is not in the index (0–${index.lengths.length - 1}).`);
  }
  let score = 0;
  for (const term of new Set(index.tokenize(query))) {
    score += bm25TermScore({
      tf: counts.get(term) ?? 0,
      df: index.df.get(term) ?? 0,
      docLength: index.lengths[doc],
      avgDocLength: index.avgLength,
      docCount: index.lengths.length,
    }, index);
  }
  return score;
}

/**
 * The best-scoring documents for a query, best first (ties: the earlier document first).
 *
 * @param index From {@linkcode bm25Index}.
 * @param query The query text.
 * @param options How many to return (default 1).
 * @returns Up to `topK` hits (documents scoring 0 included, so there is always an answer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bm25Index, bm25Search } from "./bm25.ts";
 * const index = bm25Index(["LoRA trains matrices", "DoRA trains magnitudes", "NF4 levels"]);
 * assert.equal(bm25Search(index, "NF4 nedir?")[0].doc, 2);
 * ```
 */
export function bm25Search(index: Bm25Index, query: string, options: { topK?: number } = {}): Bm25Hit[] {
  const hits = index.lengths.map((_, doc) => ({ doc, score: bm25Score(index, query, doc) }));
  hits.sort((a, b) => b.score - a.score || a.doc - b.doc);
  return hits.slice(0, options.topK ?? 1);
}
