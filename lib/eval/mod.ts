/**
 * Evaluation: exact and normalised match, JSON output metrics, pass@k, binomial intervals, a sandbox for
 * generated code, and batched generation for evaluation.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatRate, passAtK } from "./mod.ts";
 * assert.equal(formatRate(8, 20), "40% [22–61%]");
 * assert.equal(passAtK(5, 5, 1), 1);
 * ```
 *
 * @module
 */
export * from "./match.ts";
export * from "./binomial.ts";
export * from "./pass_at_k.ts";
export * from "./json_output.ts";
export * from "./sandbox.ts";
export * from "./generate_samples.ts";
