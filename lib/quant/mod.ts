/**
 * Quantization, computed in TypeScript and checked against bitsandbytes: NF4 (QLoRA's 4-bit
 * NormalFloat) with bitsandbytes' packing and double quantization, its 8-bit blockwise dynamic map,
 * LLM.int8()'s row-wise int8, and per-group int4 by round-to-nearest or by GPTQ from calibration
 * inputs, judged by the output error on held-out inputs.
 *
 * @example NF4 of a block (0.5 is nearer the level 0.4407 than 0.5626), packed as bitsandbytes stores it
 * ```ts
 * import assert from "node:assert/strict";
 * import { nf4Dequantize, nf4Pack, nf4Quantize } from "./mod.ts";
 * const q = nf4Quantize(new Float32Array([0.5, -1, 0, 1]));
 * assert.deepEqual(Array.from(nf4Pack(q.codes)), [0xc0, 0x7f]);
 * assert.deepEqual(Array.from(nf4Dequantize(q)), [Math.fround(0.44070982933044434), -1, 0, 1]);
 * ```
 *
 * @module
 */
export * from "./nf4.ts";
export * from "./blockwise8.ts";
export * from "./nf4_double.ts";
export * from "./nf4_stats.ts";
export * from "./int8.ts";
export * from "./int4_group.ts";
export * from "./gptq.ts";
export * from "./output_error.ts";
export * from "./layer_inputs.ts";
export * from "./nf4_levels.ts";
export * from "./fake_quantize_model.ts";
