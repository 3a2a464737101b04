/**
 * Datasets: JSONL in the common Hub shapes, validated, normalised to chats or preference pairs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseDataset } from "./mod.ts";
 * assert.equal(parseDataset('{"prompt": "a", "completion": "b"}', "x.jsonl").shape, "prompt-completion");
 * ```
 *
 * @module
 */
export * from "./load_dataset.ts";
export * from "./training_rows.ts";
