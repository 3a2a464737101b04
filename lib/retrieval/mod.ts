/**
 * Retrieval for retrieval-augmented generation, in TypeScript: BM25 over a few passages, with search
 * terms that work for Turkish as well as English.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bm25Index, bm25Search } from "./mod.ts";
 * const index = bm25Index(["LoRA trains two low-rank matrices.", "NF4 is a four-bit format."]);
 * assert.equal(bm25Search(index, "LoRA'nın matrisleri")[0].doc, 0);
 * ```
 *
 * @module
 */
export * from "./search_tokens.ts";
export * from "./bm25.ts";
