/**
 * Per-group int4 round-to-nearest (RTN), the baseline of GPTQ and AWQ: each row of a weight
 * (`out × in`) is cut into groups of `groupSize` input columns, and each group gets its own
 * asymmetric grid of 16 levels, `ŵ = scale · (q − zero)` with `q ∈ 0…15`.
 *
 * The default group is 32 columns: the usual 128 does not divide the built-in model's widths (160
 * and 448 inputs), 32 divides both. Smaller groups fit better and cost more bits
 * ({@linkcode int4BitsPerWeight}).
 *
 * @module
 */
import type { Matrix } from "../math/matrix.ts";
import { _checkFinite } from "./_checks.ts";
import { _checkGroupSize, _emptyInt4, _int4Code, _int4Params, type Int4GroupMatrix } from "./_int4.ts";

export type { Int4GroupMatrix } from "./_int4.ts";

/** Options for {@linkcode int4GroupQuantize} and {@linkcode gptqQuantize}. */
export interface Int4GroupOptions {
  /** Input columns per group (default 32); must divide the column count. */
  groupSize?: number;
}

/**
 * Round-to-nearest int4 per group: for each row and group, `min`/`max` (widened to include 0) give
 * `scale = (max − min)/15` and `zero = round(−min/scale)`; then `q = clamp(round(w/scale) + zero, 0, 15)`.
 *
 * @param w The weight (`out × in`).
 * @param options Group size (default 32).
 * @returns Codes, scales and zero points.
 * @throws {Error} On a non-finite weight, or a group size that does not divide the columns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { int4GroupDequantize, int4GroupQuantize } from "./int4_group.ts";
 * const q = int4GroupQuantize(fromRows([[0, 1.875, 0.375, -1.5]]), { groupSize: 2 });
 * assert.deepEqual(Array.from(q.scales), [0.125, 0.125]);
 * assert.deepEqual(Array.from(q.zeros), [0, 12]);
 * assert.deepEqual(Array.from(q.codes), [0, 15, 15, 0]);
 * assert.deepEqual(Array.from(int4GroupDequantize(q).data), [0, 1.875, 0.375, -1.5]);
 * ```
 */
export function int4GroupQuantize(w: Matrix, options: Int4GroupOptions = {}): Int4GroupMatrix {
  const groupSize = options.groupSize ?? 32;
  const { rows, cols, data } = w;
  _checkGroupSize(groupSize, cols, "int4GroupQuantize");
  const groups = cols / groupSize;
  const q = _emptyInt4(rows, cols, groupSize);
  for (let r = 0; r < rows; r++) {
    for (let g = 0; g < groups; g++) {
      const start = r * cols + g * groupSize;
      let lo = Infinity, hi = -Infinity;
      for (let i = start; i < start + groupSize; i++) {
        _checkFinite(data[i], i, "int4GroupQuantize");
        lo = Math.min(lo, data[i]);
        hi = Math.max(hi, data[i]);
      }
      const { scale, zero } = _int4Params(lo, hi);
      q.scales[r * groups + g] = scale;
      q.zeros[r * groups + g] = zero;
      for (let i = start; i < start + groupSize; i++) q.codes[i] = _int4Code(data[i], scale, zero);
    }
  }
  return q;
}

/**
 * Back to float32: `ŵ = scale · (q − zero)`.
 *
 * @param q The int4 weight.
 * @returns The dequantized weight.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { int4GroupDequantize, int4GroupQuantize } from "./int4_group.ts";
 * assert.deepEqual(Array.from(int4GroupDequantize(int4GroupQuantize(fromRows([[3, -1.5]]), { groupSize: 2 })).data), [3, -1.5]);
 * ```
 */
export function int4GroupDequantize(q: Int4GroupMatrix): Matrix {
  const groups = q.cols / q.groupSize, data = new Float32Array(q.rows * q.cols);
  for (let r = 0; r < q.rows; r++) {
    for (let c = 0; c < q.cols; c++) {
      const k = r * groups + Math.floor(c / q.groupSize);
      data[r * q.cols + c] = q.scales[k] * (q.codes[r * q.cols + c] - q.zeros[k]);
    }
  }
  return { rows: q.rows, cols: q.cols, data };
}

/**
 * Storage per weight of per-group int4: `4 + (16 + 4)/groupSize` bits (a float16 scale and a 4-bit
 * zero per group, as GPTQ checkpoints store them).
 *
 * @param groupSize Columns per group.
 * @returns Bits per weight (4.625 for 32, 4.15625 for 128).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { int4BitsPerWeight } from "./int4_group.ts";
 * assert.equal(int4BitsPerWeight(128), 4.15625);
 * ```
 */
export function int4BitsPerWeight(groupSize: number): number {
  return 4 + 20 / groupSize;
}
