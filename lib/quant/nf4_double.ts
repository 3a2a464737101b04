/**
 * QLoRA's double quantization of the NF4 scales, exactly as bitsandbytes' `quantize_4bit(...,
 * compress_statistics=True)`: subtract the float32 mean of the per-block absmax values (the
 * `offset`), then quantize what is left to 8 bits with `quantize_blockwise` (signed dynamic map,
 * blocks of 256). One scale then costs 8 bits plus 32/256 bits for its block's float32 absmax.
 *
 * @module
 */
import { _torchMeanF32 } from "./_torch_float32.ts";
import { type Blockwise8, dequantizeBlockwise, quantizeBlockwise } from "./blockwise8.ts";

/** NF4 scales in 8 bits: `absmax ≈ code[codes[i]] · absmax2[i / blockSize] + offset`. */
export interface Nf4DoubleQuant {
  /** One 8-bit code per NF4 block. */
  codes: Uint8Array;
  /** The 256-value dynamic map the codes index. */
  code: Float32Array;
  /** float32 absmax of each block of (scale − offset). */
  absmax2: Float32Array;
  /** float32 mean of the scales, subtracted first (bitsandbytes' `state.offset`). */
  offset: number;
  /** Scales per block (256). */
  blockSize: number;
  /** Number of scales. */
  length: number;
}

/** Options for {@linkcode nf4DoubleQuantize}. */
export interface Nf4DoubleQuantizeOptions {
  /** Scales per 8-bit block (default 256, as bitsandbytes and QLoRA). */
  blockSize?: number;
}

/**
 * Double-quantizes NF4 scales: `offset = mean(absmax)` (float32, summed in PyTorch's order),
 * then 8-bit blockwise quantization of `absmax − offset`.
 *
 * @param absmax The per-block scales from {@linkcode nf4Quantize}.
 * @param options Block size for the scales (default 256).
 * @returns The 8-bit state; {@linkcode nf4DoubleDequantize} gives the float32 scales back.
 * @throws {Error} On a non-finite scale or a bad block size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nf4DoubleDequantize, nf4DoubleQuantize } from "./nf4_double.ts";
 * const scales = new Float32Array([0.02, 0.03, 0.05]);
 * const dq = nf4DoubleQuantize(scales);
 * assert.ok(Math.abs(dq.offset - 0.1 / 3) < 1e-8);
 * const back = nf4DoubleDequantize(dq);
 * assert.ok(back.every((s, i) => Math.abs(s - scales[i]) < 1e-4));
 * ```
 */
export function nf4DoubleQuantize(
  absmax: Float32Array,
  options: Nf4DoubleQuantizeOptions = {},
): Nf4DoubleQuant {
  const blockSize = options.blockSize ?? 256;
  const offset = absmax.length ? _torchMeanF32(absmax) : 0;
  const q = quantizeBlockwise(absmax.map((a) => a - offset), { blockSize });
  return { codes: q.codes, code: q.code, absmax2: q.absmax, offset, blockSize, length: absmax.length };
}

/**
 * The float32 scales back: `code[q] · absmax2[block] + offset`, as bitsandbytes' `dequantize_4bit`
 * does before it uses them.
 *
 * @param dq The 8-bit scales.
 * @returns The float32 scales.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nf4DoubleDequantize, nf4DoubleQuantize } from "./nf4_double.ts";
 * assert.deepEqual(Array.from(nf4DoubleDequantize(nf4DoubleQuantize(new Float32Array([5])))), [5]);
 * ```
 */
export function nf4DoubleDequantize(dq: Nf4DoubleQuant): Float32Array {
  const q: Blockwise8 = {
    codes: dq.codes,
    absmax: dq.absmax2,
    code: dq.code,
    blockSize: dq.blockSize,
    length: dq.length,
  };
  return dequantizeBlockwise(q).map((a) => a + dq.offset);
}
