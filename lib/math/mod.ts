/**
 * Linear algebra for the lessons: a dense float32 matrix, products on onnxruntime, norms, QR,
 * exact and randomized SVD, and safetensors files.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows, matmul, toRows } from "./mod.ts";
 * assert.deepEqual(toRows(await matmul(fromRows([[1, 2]]), fromRows([[3], [4]]))), [[11]]);
 * ```
 *
 * @module
 */
export * from "./matrix.ts";
export * from "./matmul.ts";
export * from "./norms.ts";
export * from "./qr.ts";
export * from "./svd.ts";
export * from "./randomized_svd.ts";
export * from "./safetensors.ts";
export * from "./stats.ts";
