/**
 * int8 absmax quantization of a weight matrix, row by row, as LLM.int8() stores weights
 * (Dettmers et al. 2022): bitsandbytes' `Int8Params` calls `int8_vectorwise_quant`, which scales
 * each output row by `127 / max|row|` and rounds to the nearest integer (half to even). Computed
 * exactly as bitsandbytes 0.50's `int8_vectorwise_quant` / `int8_vectorwise_dequant` on float32
 * input (bitsandbytes first casts a layer's weights to float16; this module quantizes what it is given).
 * The outlier decomposition (threshold 6.0) concerns activations, not the stored weight.
 *
 * @module
 */
import type { Matrix } from "../math/matrix.ts";
import { _checkFinite, _roundHalfEven } from "./_checks.ts";

const f = Math.fround;
/** bitsandbytes' `1/127` for dequantization. */
const INV127 = f(7.874015718698502e-3);

/** A matrix in int8 with one float32 scale statistic per row. */
export interface Int8Matrix {
  rows: number;
  cols: number;
  /** `rows · cols` int8 values, row-major (bitsandbytes' `CB`). */
  codes: Int8Array;
  /** float32 `max|row|` per row (bitsandbytes' `SCB`). */
  rowAbsmax: Float32Array;
}

/**
 * Row-wise int8 absmax quantization: `q = round(w · (127 / max|row|))`. An all-zero row gets codes 0.
 *
 * @param w The weight (`out × in`).
 * @returns Codes and per-row absmax.
 * @throws {Error} On a NaN or infinite weight, naming its index.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { int8AbsmaxQuantize } from "./int8.ts";
 * const q = int8AbsmaxQuantize(fromRows([[1, -0.5, 0.25], [0, 0, 0]]));
 * assert.deepEqual(Array.from(q.codes), [127, -64, 32, 0, 0, 0]);
 * assert.deepEqual(Array.from(q.rowAbsmax), [1, 0]);
 * ```
 */
export function int8AbsmaxQuantize(w: Matrix): Int8Matrix {
  const { rows, cols, data } = w;
  const codes = new Int8Array(rows * cols), rowAbsmax = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0, o = r * cols; c < cols; c++) {
      _checkFinite(data[o + c], o + c, "int8AbsmaxQuantize");
      m = Math.max(m, Math.abs(data[o + c]));
    }
    rowAbsmax[r] = m;
    if (m === 0) continue; // bitsandbytes: 0 · (127/0) = NaN, cast to int8 as 0
    const scale = f(127 / m);
    for (let c = 0, o = r * cols; c < cols; c++) codes[o + c] = _roundHalfEven(f(data[o + c] * scale));
  }
  return { rows, cols, codes, rowAbsmax };
}

/**
 * Back to float32: `q · absmax · (1/127)` (bitsandbytes' `int8_vectorwise_dequant`).
 *
 * @param q The int8 matrix.
 * @returns The dequantized weight.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { int8AbsmaxDequantize, int8AbsmaxQuantize } from "./int8.ts";
 * const back = int8AbsmaxDequantize(int8AbsmaxQuantize(fromRows([[2, -1, 0.3]])));
 * assert.ok(back.data.every((x, i) => Math.abs(x - [2, -1, 0.3][i]) <= 1 / 127));
 * ```
 */
export function int8AbsmaxDequantize(q: Int8Matrix): Matrix {
  const data = new Float32Array(q.rows * q.cols);
  for (let r = 0; r < q.rows; r++) {
    for (let c = 0, o = r * q.cols; c < q.cols; c++) {
      data[o + c] = f(f(q.codes[o + c] * q.rowAbsmax[r]) * INV127);
    }
  }
  return { rows: q.rows, cols: q.cols, data };
}
