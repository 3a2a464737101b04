/**
 * NF4, QLoRA's 4-bit NormalFloat (Dettmers et al. 2023): each block of weights is divided by its
 * absolute maximum and every value is stored as the index of one of 16 code values that are
 * quantiles of a normal distribution. Computed exactly as bitsandbytes 0.50's `quantize_4bit`
 * (`quant_type="nf4"`) on a CPU, so codes, packed bytes and absmax are identical.
 *
 * @module
 */
import { _checkBlockSize, _checkFinite } from "./_checks.ts";

const f = Math.fround;

/** The 16 NF4 code values, exactly as published with QLoRA (bitsandbytes' table). */
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

/** The 15 float32 midpoints `(c[i] + c[i+1]) / 2` that decide between neighbouring codes. */
const MIDPOINTS = Float32Array.from({ length: 15 }, (_, i) => f(NF4_CODEBOOK[i] + NF4_CODEBOOK[i + 1]) / 2);

/** Smallest divisor bitsandbytes uses for an all-zero block (`clamp(min=1e-38)`), in float32. */
const TINY = f(1e-38);

/** Weights in NF4: one 4-bit code per value (one per byte here, for clarity) and a scale per block. */
export interface Nf4Tensor {
  /** Code index 0…15 per value. */
  codes: Uint8Array;
  /** float32 absolute maximum per block (a last, short all-zero block stores 1e-38, as bitsandbytes). */
  absmax: Float32Array;
  blockSize: number;
  length: number;
}

/** Options for {@linkcode nf4Quantize}. */
export interface Nf4QuantizeOptions {
  /** Values per block (default 64, QLoRA's). */
  blockSize?: number;
}

/**
 * Quantizes to NF4 as bitsandbytes does: per block `absmax = max|x|`, `x̂ = clamp(x · (1/absmax), −1, 1)`
 * (a last, short block divides, `x / absmax`), and the code is the number of midpoints strictly
 * below `x̂` — the nearest code, the lower one exactly at a midpoint.
 *
 * @param values The weights (float32), flattened row-major.
 * @param options Block size (default 64).
 * @returns Codes (one per byte) and per-block absmax; {@linkcode nf4Pack} gives bitsandbytes' bytes.
 * @throws {Error} On NaN/Infinity, naming the index, or a block size that is not a positive whole number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nf4Quantize } from "./nf4.ts";
 * const q = nf4Quantize(new Float32Array([0.5, -1, 0]), { blockSize: 64 });
 * assert.deepEqual(Array.from(q.codes), [12, 0, 7]);
 * assert.deepEqual(Array.from(q.absmax), [1]);
 * ```
 */
export function nf4Quantize(values: Float32Array, options: Nf4QuantizeOptions = {}): Nf4Tensor {
  const blockSize = options.blockSize ?? 64;
  _checkBlockSize(blockSize, "nf4Quantize");
  const n = values.length, full = Math.floor(n / blockSize), blocks = Math.ceil(n / blockSize);
  const codes = new Uint8Array(n), absmax = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const start = b * blockSize, end = Math.min(n, start + blockSize);
    let m = 0;
    for (let i = start; i < end; i++) {
      _checkFinite(values[i], i, "nf4Quantize");
      m = Math.max(m, Math.abs(values[i]));
    }
    const short = b >= full;
    absmax[b] = short ? Math.max(m, TINY) : m;
    const inv = f(1 / Math.max(m, TINY));
    for (let i = start; i < end; i++) {
      const x = short ? f(values[i] / absmax[b]) : f(values[i] * inv);
      codes[i] = _nearestCode(Math.min(1, Math.max(-1, x)));
    }
  }
  return { codes, absmax, blockSize, length: n };
}

/** `torch.bucketize(x, midpoints)`: how many midpoints are strictly below x. */
function _nearestCode(x: number): number {
  let c = 0;
  while (c < 15 && MIDPOINTS[c] < x) c++;
  return c;
}

/**
 * Back to floats: `codebook[code] · absmax[block]` in float32 (bitsandbytes' `dequantize_4bit`). For
 * double-quantized scales pass `{ ...q, absmax: nf4DoubleDequantize(dq) }`.
 *
 * @param q The quantized tensor.
 * @returns The dequantized weights.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nf4Dequantize, nf4Quantize } from "./nf4.ts";
 * assert.deepEqual(Array.from(nf4Dequantize(nf4Quantize(new Float32Array([2, -2, 1])))), [2, -2, Math.fround(2 * 0.44070982933044434)]);
 * ```
 */
export function nf4Dequantize(q: Nf4Tensor): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) {
    out[i] = NF4_CODEBOOK[q.codes[i]] * q.absmax[Math.floor(i / q.blockSize)];
  }
  return out;
}

/**
 * Two 4-bit codes per byte, as bitsandbytes stores NF4: the first value of each pair in the high
 * nibble, the second in the low one; an odd count is padded with code 7 (the code of 0).
 *
 * @param codes Codes 0…15, one per value.
 * @returns `ceil(n/2)` bytes.
 * @throws {Error} When a code is above 15, naming its index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nf4Pack } from "./nf4.ts";
 * assert.deepEqual(Array.from(nf4Pack(Uint8Array.of(12, 0, 15))), [0xc0, 0xf7]);
 * ```
 */
export function nf4Pack(codes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) {
    if (codes[i] > 15) throw new Error(`nf4Pack: code ${i} is ${codes[i]}; NF4 codes are 0…15.`);
  }
  for (let j = 0; j < out.length; j++) {
    out[j] = (codes[2 * j] << 4) | (2 * j + 1 < codes.length ? codes[2 * j + 1] : 7);
  }
  return out;
}

/**
 * Unpacks bitsandbytes' NF4 bytes into one code per value (high nibble first).
 *
 * @param packed The bytes.
 * @param length How many values (≤ 2 per byte; drops the padding).
 * @returns The codes.
 * @throws {Error} When `length` does not fit in the bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { nf4Unpack } from "./nf4.ts";
 * assert.deepEqual(Array.from(nf4Unpack(Uint8Array.of(0xc0, 0xf7), 3)), [12, 0, 15]);
 * ```
 */
export function nf4Unpack(packed: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || Math.ceil(length / 2) > packed.length) {
    throw new Error(`nf4Unpack: ${length} values do not fit in ${packed.length} bytes (2 per byte).`);
  }
  return Uint8Array.from({ length }, (_, i) => i % 2 ? packed[i >> 1] & 0xf : packed[i >> 1] >> 4);
}
