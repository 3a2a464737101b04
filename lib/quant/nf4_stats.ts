/**
 * What NF4 costs on some weights: the error of the dequantized values, with plain float32 scales and
 * with double-quantized scales, and the bits each weight takes.
 *
 * @module
 */
import { nf4Dequantize, nf4Quantize } from "./nf4.ts";
import { nf4DoubleDequantize, nf4DoubleQuantize } from "./nf4_double.ts";

/** Options for {@linkcode nf4Stats}. */
export interface Nf4StatsOptions {
  /** Weights per NF4 block (default 64). */
  blockSize?: number;
  /** Scales per 8-bit block of the double quantization (default 256). */
  scaleBlockSize?: number;
}

/** Error and size of NF4 on a tensor. Errors are of `w − dequantize(quantize(w))`, in float64. */
export interface Nf4Stats {
  rmsError: number;
  maxError: number;
  meanAbsError: number;
  /** The same three with double-quantized scales. */
  rmsErrorDouble: number;
  maxErrorDouble: number;
  meanAbsErrorDouble: number;
  /** `4 + 32/blockSize`: a 4-bit code plus a float32 absmax per block (4.5 for 64). */
  bitsPerWeight: number;
  /** `4 + 8/blockSize + 32/(blockSize·scaleBlockSize)`: an 8-bit scale per block and a float32 per 256 scales (4.127). */
  bitsPerWeightDouble: number;
}

/**
 * Quantizes, dequantizes and measures, with and without double quantization (the bits per weight
 * leave out the one float32 offset per tensor and the half byte of padding of an odd count).
 *
 * @param values The weights.
 * @param options Block sizes.
 * @returns RMS, max and mean absolute error, and bits per weight.
 * @throws {Error} On non-finite weights or bad block sizes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nf4Stats } from "./nf4_stats.ts";
 * const s = nf4Stats(new Float32Array(4096).map((_, i) => Math.sin(i)));
 * assert.equal(s.bitsPerWeight, 4.5);
 * assert.equal(s.bitsPerWeightDouble.toFixed(3), "4.127");
 * assert.ok(s.rmsError > 0 && s.rmsError < 0.1 && s.rmsErrorDouble >= s.rmsError * 0.9);
 * ```
 */
export function nf4Stats(values: Float32Array, options: Nf4StatsOptions = {}): Nf4Stats {
  const blockSize = options.blockSize ?? 64, scaleBlockSize = options.scaleBlockSize ?? 256;
  const q = nf4Quantize(values, { blockSize });
  const plain = _errors(values, nf4Dequantize(q));
  const double = _errors(
    values,
    nf4Dequantize({
      ...q,
      absmax: nf4DoubleDequantize(nf4DoubleQuantize(q.absmax, { blockSize: scaleBlockSize })),
    }),
  );
  return {
    rmsError: plain.rms,
    maxError: plain.max,
    meanAbsError: plain.meanAbs,
    rmsErrorDouble: double.rms,
    maxErrorDouble: double.max,
    meanAbsErrorDouble: double.meanAbs,
    bitsPerWeight: nf4BitsPerWeight({ doubleQuant: false, blockSize }),
    bitsPerWeightDouble: nf4BitsPerWeight({ blockSize, scaleBlockSize }),
  };
}

function _errors(w: Float32Array, wq: Float32Array): { rms: number; max: number; meanAbs: number } {
  let se = 0, sa = 0, max = 0;
  for (let i = 0; i < w.length; i++) {
    const e = Math.abs(w[i] - wq[i]);
    se += e * e;
    sa += e;
    max = Math.max(max, e);
  }
  const n = w.length || 1;
  return { rms: Math.sqrt(se / n), max, meanAbs: sa / n };
}

/**
 * Bits per weight of NF4 storage: a 4-bit code, plus a float32 absmax per block — or, with double
 * quantization, an 8-bit absmax per block and a float32 scale per `scaleBlockSize` absmax values.
 *
 * @param options Double quantization (default true) and block sizes (64, 256).
 * @returns 4.127 for QLoRA's defaults, 4.5 without double quantization.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nf4BitsPerWeight } from "./nf4_stats.ts";
 * assert.equal(nf4BitsPerWeight().toFixed(3), "4.127");
 * assert.equal(nf4BitsPerWeight({ doubleQuant: false }), 4.5);
 * ```
 */
export function nf4BitsPerWeight(
  options: { doubleQuant?: boolean; blockSize?: number; scaleBlockSize?: number } = {},
): number {
  const blockSize = options.blockSize ?? 64, scaleBlockSize = options.scaleBlockSize ?? 256;
  return options.doubleQuant ?? true
    ? 4 + 8 / blockSize + 32 / (blockSize * scaleBlockSize)
    : 4 + 32 / blockSize;
}
