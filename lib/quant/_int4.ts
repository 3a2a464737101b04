/**
 * The asymmetric 4-bit grid GPTQ's reference quantizer uses (`Quantizer(bits=4, sym=False)`), shared
 * by round-to-nearest and GPTQ so they differ only in the error compensation. Private to `lib/quant`.
 *
 * @module
 */
import { _roundHalfEven } from "./_checks.ts";

/** Largest 4-bit code. */
const _MAXQ = 15;

/** A weight in per-group int4. */
export interface Int4GroupMatrix {
  rows: number;
  cols: number;
  groupSize: number;
  /** `rows · cols` codes 0…15, row-major. */
  codes: Uint8Array;
  /** float32 scale per row and group (`rows · cols/groupSize`, row-major). */
  scales: Float32Array;
  /** Zero point 0…15 per row and group. */
  zeros: Uint8Array;
}

/**
 * Scale and zero point of a group with extremes `lo…hi`: the range is widened to include 0, then
 * `scale = (max − min)/15` (float32), `zero = round(−min/scale)`; an all-zero group gets the range ±1.
 */
export function _int4Params(lo: number, hi: number): { scale: number; zero: number } {
  let min = Math.min(lo, 0), max = Math.max(hi, 0);
  if (min === 0 && max === 0) [min, max] = [-1, 1];
  const scale = Math.fround((max - min) / _MAXQ);
  return { scale, zero: _roundHalfEven(-min / scale) };
}

/** The code of `x`: `clamp(round(x/scale) + zero, 0, 15)`. */
export function _int4Code(x: number, scale: number, zero: number): number {
  return Math.min(_MAXQ, Math.max(0, _roundHalfEven(x / scale) + zero));
}

/** Throws unless the group size is a positive whole number that divides the column count. */
export function _checkGroupSize(groupSize: number, cols: number, where: string): void {
  if (!Number.isInteger(groupSize) || groupSize <= 0 || cols % groupSize !== 0) {
    throw new Error(
      `${where}: group size ${groupSize} does not divide the ${cols} input columns; use a divisor such as 32.`,
    );
  }
}

/** An all-zero int4 matrix of this shape, to be filled group by group. */
export function _emptyInt4(rows: number, cols: number, groupSize: number): Int4GroupMatrix {
  const groups = cols / groupSize;
  return {
    rows,
    cols,
    groupSize,
    codes: new Uint8Array(rows * cols),
    scales: new Float32Array(rows * groups),
    zeros: new Uint8Array(rows * groups),
  };
}
