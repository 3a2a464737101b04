/**
 * bitsandbytes' 8-bit blockwise quantization (`quantize_blockwise` / `dequantize_blockwise`) with its
 * signed dynamic map: each block is divided by its absolute maximum and each value stored as the
 * index of a code in a 256-value map that is dense near zero (a dynamic exponent, Dettmers 2015).
 * QLoRA's double quantization stores the NF4 scales this way.
 *
 * Reproduced bit for bit, including the way bitsandbytes' CPU kernel (0.50) picks a code: not the
 * exact nearest code but a 65 536-entry lookup table over [−1, 1], so a value near a midpoint can
 * get the neighbour code.
 *
 * @module
 */
import { _linspaceF32 } from "./_torch_float32.ts";
import { _checkBlockSize, _checkFinite } from "./_checks.ts";

const f = Math.fround;

/**
 * The signed 8-bit dynamic map of bitsandbytes (`create_dynamic_map(signed=True)`): for exponent
 * `i = 0…6`, the `2^i` midpoints of `linspace(0.1, 1, 2^i + 1)` times `10^(i−6)`, with both signs,
 * plus 0 and 1; sorted. (−1 is not in it: the most negative code is −0.99297.)
 *
 * @returns 256 sorted float32 values in [−1, 1].
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dynamicMap } from "./blockwise8.ts";
 * const code = dynamicMap();
 * assert.equal(code.length, 256);
 * assert.deepEqual([code[0], code[127], code[255]], [Math.fround(-0.992968738079071), 0, 1]);
 * ```
 */
export function dynamicMap(): Float32Array {
  const data: number[] = [];
  for (let i = 0; i < 7; i++) {
    const b = _linspaceF32(0.1, 1, 2 ** i + 1);
    const scale = f(Number(`1e${i - 6}`)); // Python's 10 ** (i − 6), cast to float32 by torch
    for (let k = 0; k + 1 < b.length; k++) {
      const v = f(scale * f(f(b[k] + b[k + 1]) / 2));
      data.push(v, -v);
    }
  }
  data.push(0, 1);
  return Float32Array.from(data).sort();
}

let _dynamic: Float32Array | undefined;
const _luts = new WeakMap<Float32Array, Uint8Array>();

/** The CPU kernel's table: entry `i` is the first code whose midpoint to the next is ≥ −1 + 2i/65535. */
function _lut(code: Float32Array): Uint8Array {
  let lut = _luts.get(code);
  if (lut) return lut;
  lut = new Uint8Array(65536);
  const mid = Float32Array.from({ length: code.length - 1 }, (_, i) => f(0.5 * f(code[i] + code[i + 1])));
  for (let i = 0, c = 0; i < 65536; i++) {
    const val = f(-1 + f((2 * i) / 65535));
    while (c < mid.length && mid[c] < val) c++;
    lut[i] = c;
  }
  _luts.set(code, lut);
  return lut;
}

/** Normalised value in [−1, 1] → table index, in the kernel's float32 steps (truncation at the end). */
function _lutIndex(v: number): number {
  const x = Math.min(1, Math.max(-1, v));
  return Math.trunc(f(f(f(f(x + 1) * 0.5) * 65535) + 0.5));
}

/** An 8-bit blockwise-quantized vector. */
export interface Blockwise8 {
  /** One code index per value. */
  codes: Uint8Array;
  /** float32 absolute maximum of each block (0 for an all-zero block, whose codes are 0). */
  absmax: Float32Array;
  /** The 256-value map the codes index. */
  code: Float32Array;
  blockSize: number;
  length: number;
}

/** Options for {@linkcode quantizeBlockwise}. */
export interface QuantizeBlockwiseOptions {
  /** The map (default {@linkcode dynamicMap}); sorted, 256 values in [−1, 1]. */
  code?: Float32Array;
  /** Values per block (default 4096, as bitsandbytes). */
  blockSize?: number;
}

/**
 * 8-bit blockwise quantization, as bitsandbytes' `quantize_blockwise` on a CPU: per block
 * `absmax = max|x|`, `code = table[round((x·(1/absmax) + 1)/2 · 65535)]`. The last block may be short.
 *
 * @param values The values (float32).
 * @param options Map and block size.
 * @returns Codes, per-block absmax, the map.
 * @throws {Error} On a NaN or infinite value (naming its index) or a block size that is not a positive whole number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dequantizeBlockwise, quantizeBlockwise } from "./blockwise8.ts";
 * const q = quantizeBlockwise(new Float32Array([0.5, -1, 0]), { blockSize: 256 });
 * assert.deepEqual(Array.from(q.absmax), [1]);
 * assert.deepEqual(Array.from(dequantizeBlockwise(q)).map((x) => x.toFixed(3)), ["0.501", "-0.993", "0.000"]);
 * ```
 */
export function quantizeBlockwise(values: Float32Array, options: QuantizeBlockwiseOptions = {}): Blockwise8 {
  const blockSize = options.blockSize ?? 4096;
  _checkBlockSize(blockSize, "quantizeBlockwise");
  const code = options.code ?? (_dynamic ??= dynamicMap());
  const lut = _lut(code), n = values.length, blocks = Math.ceil(n / blockSize);
  const codes = new Uint8Array(n), absmax = new Float32Array(blocks);
  for (let b = 0; b < blocks; b++) {
    const start = b * blockSize, end = Math.min(n, start + blockSize);
    let m = 0;
    for (let i = start; i < end; i++) {
      _checkFinite(values[i], i, "quantizeBlockwise");
      m = Math.max(m, Math.abs(values[i]));
    }
    absmax[b] = m;
    if (m === 0) continue; // codes stay 0, as in the kernel
    const inv = f(1 / m);
    for (let i = start; i < end; i++) codes[i] = lut[_lutIndex(f(values[i] * inv))];
  }
  return { codes, absmax, code, blockSize, length: n };
}

/**
 * Back to float32: `code[q] · absmax[block]` (bitsandbytes' `dequantize_blockwise`).
 *
 * @param q The quantized vector.
 * @returns The values.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { dequantizeBlockwise, quantizeBlockwise } from "./blockwise8.ts";
 * const back = dequantizeBlockwise(quantizeBlockwise(new Float32Array([4, -2])));
 * assert.equal(back[0], 4); // the absmax maps to code 1.0 exactly
 * assert.ok(Math.abs(back[1] + 2) < 0.01); // −2/4 lands on the code −0.5008 (8 bits, dense near 0)
 * ```
 */
export function dequantizeBlockwise(q: Blockwise8): Float32Array {
  const out = new Float32Array(q.length);
  for (let i = 0; i < q.length; i++) out[i] = q.code[q.codes[i]] * q.absmax[Math.floor(i / q.blockSize)];
  return out;
}
