/**
 * Float32 arithmetic in the order PyTorch's CPU kernels use it, where bitsandbytes' numbers depend
 * on that order: `torch.linspace` (for the 8-bit dynamic map) and `torch.mean` (the offset of
 * double quantization). Private to `lib/quant`.
 *
 * @module
 */

const f = Math.fround;

/**
 * `torch.linspace(start, end, steps, dtype=float32)` on a CPU: a float32 step, then `start + step·i`
 * for the first half and `end − step·(steps−1−i)` for the second, each with one rounding (a fused
 * multiply-add).
 *
 * @param start First value.
 * @param end Last value.
 * @param steps Number of values (≥ 2).
 * @returns The float32 values.
 */
export function _linspaceF32(start: number, end: number, steps: number): Float32Array {
  const s = f(start), e = f(end), step = f(f(e - s) / (steps - 1)), half = Math.floor(steps / 2);
  // In float64 `s + step·i` is exact here (24-bit operands, small i), so one fround is one FMA rounding.
  return Float32Array.from(
    { length: steps },
    (_, i) => i < half ? f(s + step * i) : f(e - step * (steps - 1 - i)),
  );
}

function _ceilLog2(x: number): number {
  return x <= 2 ? 1 : (x - 1).toString(2).length;
}

/** ATen's `multi_row_sum`: a cascade over `rows` (each `width` float32 lanes) with 4 levels. */
function _multiRowSum(rows: Float32Array[], width: number): Float32Array {
  const size = rows.length, levels = 4;
  const power = Math.max(4, Math.floor(_ceilLog2(size) / levels)), step = 1 << power, mask = step - 1;
  const acc = Array.from({ length: levels }, () => new Float32Array(width));
  const add = (into: Float32Array, x: Float32Array) => {
    for (let k = 0; k < width; k++) into[k] = f(into[k] + x[k]);
  };
  let i = 0;
  for (; i + step <= size;) {
    for (let j = 0; j < step; j++, i++) add(acc[0], rows[i]);
    for (let j = 1; j < levels; j++) {
      add(acc[j], acc[j - 1]);
      acc[j - 1].fill(0);
      if ((i & (mask << (j * power))) !== 0) break;
    }
  }
  for (; i < size; i++) add(acc[0], rows[i]);
  for (let j = 1; j < levels; j++) add(acc[0], acc[j]);
  return acc[0];
}

/** ATen's `row_sum`: the items seen as a (−1, 4) array, column sums by cascade, then folded. */
function _rowSum(items: Float32Array[], width: number): Float32Array {
  const ilp = 4, sizeIlp = Math.floor(items.length / ilp);
  const partial = Array.from({ length: ilp }, () => new Float32Array(width));
  if (sizeIlp > 0) {
    // Each cascade "row" holds ilp items side by side.
    const rows = Array.from({ length: sizeIlp }, (_, r) => {
      const row = new Float32Array(ilp * width);
      for (let k = 0; k < ilp; k++) row.set(items[r * ilp + k], k * width);
      return row;
    });
    const s = _multiRowSum(rows, ilp * width);
    for (let k = 0; k < ilp; k++) partial[k].set(s.subarray(k * width, (k + 1) * width));
  }
  for (let i = sizeIlp * ilp; i < items.length; i++) {
    for (let l = 0; l < width; l++) partial[0][l] = f(partial[0][l] + items[i][l]);
  }
  for (let k = 1; k < ilp; k++) {
    for (let l = 0; l < width; l++) partial[0][l] = f(partial[0][l] + partial[k][l]);
  }
  return partial[0];
}

/**
 * `torch.mean(x)` of a contiguous float32 vector on a CPU with AVX2 (8-lane vectors; a single
 * thread, which ATen uses below 32 768 elements): ATen's cascade sum, then `sum / n` in float32.
 *
 * @param x The values.
 * @returns The float32 mean (NaN for no values, as torch).
 */
export function _torchMeanF32(x: Float32Array): number {
  const n = x.length, W = 8;
  let sum: number;
  if (n >= W) {
    const vecs = Array.from({ length: Math.floor(n / W) }, (_, k) => x.subarray(k * W, (k + 1) * W));
    const lanes = _rowSum(vecs, W);
    let acc = 0;
    for (let k = vecs.length * W; k < n; k++) acc = f(acc + x[k]);
    for (let l = 0; l < W; l++) acc = f(acc + lanes[l]);
    sum = acc;
  } else {
    sum = _rowSum(Array.from(x, (v) => Float32Array.of(v)), 1)[0];
  }
  return f(sum / n);
}
