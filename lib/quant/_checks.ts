/**
 * Input checks (one-line messages) and rounding shared by the quantizers. Private to `lib/quant`.
 *
 * @module
 */

/** Throws unless the block size is a positive whole number. */
export function _checkBlockSize(blockSize: number, where: string): void {
  if (!Number.isInteger(blockSize) || blockSize <= 0) {
    throw new Error(`${where}: block size ${blockSize} is not a positive whole number; use e.g. 64.`);
  }
}

/** Throws when a value is NaN or infinite, naming its index. */
export function _checkFinite(x: number, i: number, where: string): void {
  if (!Number.isFinite(x)) throw new Error(`${where}: value ${i} is ${x}; quantization needs finite values.`);
}

/** `torch.round`: nearest integer, ties to even. */
export function _roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
