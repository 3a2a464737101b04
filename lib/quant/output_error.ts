/**
 * How much a quantized weight changes what a layer computes: the relative error of its outputs on
 * real inputs, the quantity GPTQ minimises (on calibration inputs) and the fair test of it (on
 * held-out inputs).
 *
 * @module
 */
import { matmul } from "../math/matmul.ts";
import { addScaled, assertSameShape, type Matrix } from "../math/matrix.ts";
import { frobenius } from "../math/norms.ts";

/**
 * Relative output error `‖XWᵀ − XŴᵀ‖_F / ‖XWᵀ‖_F` of a linear layer.
 *
 * @param w The original weight (`out × in`).
 * @param wq The quantized (dequantized) weight, same shape.
 * @param x Inputs (`tokens × in`).
 * @returns The relative error (0 when identical; NaN when `XWᵀ` is 0).
 * @throws {Error} When the shapes do not fit, naming them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { outputError } from "./output_error.ts";
 * const x = fromRows([[1, 0], [0, 1]]);
 * assert.equal(await outputError(fromRows([[3, 4]]), fromRows([[3, 4]]), x), 0);
 * assert.equal(await outputError(fromRows([[3, 4]]), fromRows([[3, 0]]), x), 0.8);
 * ```
 */
export async function outputError(w: Matrix, wq: Matrix, x: Matrix): Promise<number> {
  assertSameShape(w, wq, "outputError");
  if (x.cols !== w.cols) {
    throw new Error(
      `outputError: inputs are ${x.rows}×${x.cols}, the weight ${w.rows}×${w.cols} needs tokens × ${w.cols}.`,
    );
  }
  const y = await matmul(x, w, { transB: true });
  const dy = await matmul(x, addScaled(w, wq, -1), { transB: true });
  return frobenius(dy) / frobenius(y);
}
