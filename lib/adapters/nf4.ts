/**
 * NF4, QLoRA's 4-bit NormalFloat (Dettmers et al. 2023): each block of weights is divided by its
 * absolute maximum and every value is stored as the index of the nearest of 16 code values that
 * are quantiles of a normal distribution. Double quantization then stores the per-block scales in
 * 8 bits too.
 *
 * @module
 */

/** The 16 NF4 code values, exactly as published with QLoRA (bitsandbytes). */
export const NF4_CODEBOOK: Float32Array = Float32Array.from([
  -1.0,
  -0.6961928009986877,
  -0.5250730514526367,
  -0.39491748809814453,
  -0.28444138169288635,
  -0.18477343022823334,
  -0.09105003625154495,
  0.0,
  0.07958029955625534,
  0.16093020141124725,
  0.24611230194568634,
  0.33791524171829224,
  0.44070982933044434,
  0.5626170039176941,
  0.7229568362236023,
  1.0,
]);

/** Weights in NF4: one 4-bit code per value (stored one per byte here, for clarity) and a scale per block. */
export interface Nf4Tensor {
  codes: Uint8Array;
  absmax: Float32Array;
  blockSize: number;
  length: number;
}

/**
 * Quantizes to NF4: per block, `code = argmin |x/absmax − c|` (the first on a tie).
 *
 * @param values The weights.
 * @param options Block size (default 64, as QLoRA).
 * @returns Codes and per-block absmax.
 * @throws {Error} On NaN/Infinity, naming the index.
 *
 * @example
 * ```ts
 * import { nf4Quantize } from "./nf4.ts";
 * const q = nf4Quantize(new Float32Array([0.5, -1, 0]), { blockSize: 64 });
 * console.log(Array.from(q.codes), Array.from(q.absmax)); // [12, 0, 7] [1]
 * ```
 */
export function nf4Quantize(values: Float32Array, options: { blockSize?: number } = {}): Nf4Tensor {
  const blockSize = options.blockSize ?? 64;
  const blocks = Math.ceil(values.length / blockSize);
  const codes = new Uint8Array(values.length), absmax = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const end = Math.min(values.length, (b + 1) * blockSize);
    let m = 0;
    for (let i = b * blockSize; i < end; i++) {
      if (!Number.isFinite(values[i])) {
        throw new Error(`nf4Quantize: value ${i} is ${values[i]}; NF4 needs finite weights.`);
      }
      m = Math.max(m, Math.abs(values[i]));
    }
    absmax[b] = m;
    for (let i = b * blockSize; i < end; i++) {
      // Float32 arithmetic throughout, so codes match a float32 reference bit for bit.
      const x = m === 0 ? 0 : Math.fround(values[i] / absmax[b]);
      let best = 0, bestErr = Infinity;
      for (let c = 0; c < 16; c++) {
        const err = Math.abs(Math.fround(x - NF4_CODEBOOK[c]));
        if (err < bestErr) {
          bestErr = err;
          best = c;
        }
      }
      codes[i] = best;
    }
  }
  return { codes, absmax, blockSize, length: values.length };
}

/**
 * Back to floats: `codebook[code] · absmax`.
 *
 * @param q The quantized tensor.
 * @returns The dequantized weights.
 *
 * @example
 * ```ts
 * import { nf4Dequantize, nf4Quantize } from "./nf4.ts";
 * console.log(Array.from(nf4Dequantize(nf4Quantize(new Float32Array([2, -2]))))); // [2, -2]
 * ```
 */
export function nf4Dequantize(q: Nf4Tensor): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    out[i] = NF4_CODEBOOK[q.codes[i]] * q.absmax[Math.floor(i / q.blockSize)];
  }
  return out;
}

/** The per-block scales stored in 8 bits: `absmax ≈ mean + code · step[block]`. */
export interface DoubleQuantized {
  codes: Int8Array;
  /** One float32 step per block of scales. */
  steps: Float32Array;
  /** The mean subtracted first (the scales are all positive). */
  mean: number;
  blockSize: number;
}

/**
 * Double quantization of the NF4 scales: subtract their mean, then symmetric 8-bit absmax
 * quantization in blocks of 256 (QLoRA's sizes). bitsandbytes uses a non-linear 8-bit map here;
 * a linear map keeps the lesson readable and gives the same memory cost.
 *
 * @param absmax The per-block scales from {@linkcode nf4Quantize}.
 * @param options Block size for the scales (default 256).
 * @returns The 8-bit scales.
 *
 * @example
 * ```ts
 * import { doubleDequantize, doubleQuantize } from "./nf4.ts";
 * const dq = doubleQuantize(new Float32Array([1, 2, 3]));
 * console.log(Array.from(doubleDequantize(dq)).map((x) => Math.round(x * 100) / 100)); // [1, 2, 3]
 * ```
 */
export function doubleQuantize(absmax: Float32Array, options: { blockSize?: number } = {}): DoubleQuantized {
  const blockSize = options.blockSize ?? 256;
  const mean = absmax.reduce((a, b) => a + b, 0) / (absmax.length || 1);
  const blocks = Math.ceil(absmax.length / blockSize);
  const codes = new Int8Array(absmax.length), steps = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const end = Math.min(absmax.length, (b + 1) * blockSize);
    let m = 0;
    for (let i = b * blockSize; i < end; i++) m = Math.max(m, Math.abs(absmax[i] - mean));
    steps[b] = m / 127;
    for (let i = b * blockSize; i < end; i++) {
      codes[i] = steps[b] === 0 ? 0 : Math.round((absmax[i] - mean) / steps[b]);
    }
  }
  return { codes, steps, mean, blockSize };
}

/**
 * Back to float scales.
 *
 * @param dq The 8-bit scales.
 * @returns The float32 scales.
 *
 * @example
 * ```ts
 * import { doubleDequantize, doubleQuantize } from "./nf4.ts";
 * console.log(doubleDequantize(doubleQuantize(new Float32Array([5]))).length); // 1
 * ```
 */
export function doubleDequantize(dq: DoubleQuantized): Float32Array {
  return Float32Array.from(dq.codes, (c, i) => dq.mean + c * dq.steps[Math.floor(i / dq.blockSize)]);
}

/**
 * Error and memory statistics of NF4 on some weights, with and without double quantization.
 *
 * @param values The weights.
 * @param options Block sizes.
 * @returns RMS and max error, and bits per weight (4 + scale overhead).
 *
 * @example
 * ```ts
 * import { nf4Stats } from "./nf4.ts";
 * const s = nf4Stats(new Float32Array(4096).map((_, i) => Math.sin(i)));
 * console.log(s.bitsPerWeight, s.bitsPerWeightDouble.toFixed(3)); // 4.5 4.127
 * ```
 */
export function nf4Stats(
  values: Float32Array,
  options: { blockSize?: number; scaleBlockSize?: number } = {},
): {
  rmsError: number;
  maxError: number;
  rmsErrorDouble: number;
  bitsPerWeight: number;
  bitsPerWeightDouble: number;
} {
  const blockSize = options.blockSize ?? 64, scaleBlockSize = options.scaleBlockSize ?? 256;
  const q = nf4Quantize(values, { blockSize });
  const plain = nf4Dequantize(q);
  const double = nf4Dequantize({
    ...q,
    absmax: doubleDequantize(doubleQuantize(q.absmax, { blockSize: scaleBlockSize })),
  });
  let se = 0, max = 0, seD = 0;
  for (let i = 0; i < values.length; i++) {
    const e = values[i] - plain[i];
    se += e * e;
    max = Math.max(max, Math.abs(e));
    seD += (values[i] - double[i]) ** 2;
  }
  const n = values.length || 1;
  return {
    rmsError: Math.sqrt(se / n),
    maxError: max,
    rmsErrorDouble: Math.sqrt(seD / n),
    bitsPerWeight: 4 + 32 / blockSize,
    bitsPerWeightDouble: 4 + 8 / blockSize + 32 / (blockSize * scaleBlockSize),
  };
}
