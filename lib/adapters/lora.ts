/**
 * LoRA (Hu et al. 2021): a frozen weight `W` (out×in) plus a low-rank update `s·B·A`, with `A`
 * (r×in), `B` (out×r) and scaling `s = alpha / r` (rsLoRA: `alpha / √r`). PEFT's conventions.
 *
 * @module
 */
import { addScaled, type Matrix } from "../math/matrix.ts";
import { matmul } from "../math/matmul.ts";

/** A LoRA adapter for one linear layer. */
export interface LoraAdapter {
  /** r×in, the down-projection. */
  A: Matrix;
  /** out×r, the up-projection (zeros at init). */
  B: Matrix;
  /** The `lora_alpha` hyper-parameter. */
  alpha: number;
  /** Use rsLoRA's scaling `alpha/√r` instead of `alpha/r`. */
  rslora?: boolean;
}

/**
 * The adapter's scaling factor: `alpha / r`, or `alpha / √r` with rsLoRA.
 *
 * @param alpha `lora_alpha`.
 * @param r The rank.
 * @param rslora Use rank-stabilised scaling.
 * @returns The factor `s`.
 * @throws {Error} When the rank is not a positive whole number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loraScaling } from "./lora.ts";
 * assert.equal(loraScaling(16, 8), 2);
 * assert.equal(loraScaling(16, 4, true), 8);
 * ```
 */
export function loraScaling(alpha: number, r: number, rslora = false): number {
  if (!Number.isInteger(r) || r < 1) throw new Error(`LoRA rank must be a whole number ≥ 1; got ${r}.`);
  return rslora ? alpha / Math.sqrt(r) : alpha / r;
}

/**
 * Checks that an adapter fits a weight and returns its rank.
 *
 * @param W The frozen weight (out×in).
 * @param adapter The adapter.
 * @returns The rank r.
 * @throws {Error} Naming the mismatching shapes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrix } from "../math/matrix.ts";
 * import { checkAdapter } from "./lora.ts";
 * assert.equal(checkAdapter(matrix(3, 4), { A: matrix(2, 4), B: matrix(3, 2), alpha: 4 }), 2);
 * assert.throws(() => checkAdapter(matrix(3, 4), { A: matrix(2, 5), B: matrix(3, 2), alpha: 4 }), /do not fit/);
 * ```
 */
export function checkAdapter(W: Matrix, adapter: LoraAdapter): number {
  const { A, B } = adapter;
  const r = A.rows;
  if (A.cols !== W.cols || B.rows !== W.rows || B.cols !== r) {
    throw new Error(
      `LoRA shapes do not fit: W is ${W.rows}×${W.cols} (out×in), A is ${A.rows}×${A.cols} (needs r×${W.cols}), ` +
        `B is ${B.rows}×${B.cols} (needs ${W.rows}×r) with r = ${r}.`,
    );
  }
  return r;
}

/**
 * The weight update `ΔW = s·B·A` (out×in).
 *
 * @param adapter The adapter.
 * @returns ΔW.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { loraDelta } from "./lora.ts";
 * const d = await loraDelta({ A: fromRows([[1, 1]]), B: fromRows([[2]]), alpha: 1 });
 * assert.deepEqual(Array.from(d.data), [2, 2]);
 * ```
 */
export async function loraDelta(adapter: LoraAdapter): Promise<Matrix> {
  const s = loraScaling(adapter.alpha, adapter.A.rows, adapter.rslora);
  const ba = await matmul(adapter.B, adapter.A);
  for (let i = 0; i < ba.data.length; i++) ba.data[i] *= s;
  return ba;
}

/**
 * The layer's output `y = x·Wᵀ + bias + s·(x·Aᵀ)·Bᵀ` without forming `B·A` (as PEFT does).
 *
 * @param x Inputs, tokens×in.
 * @param W The frozen weight, out×in.
 * @param adapter The adapter.
 * @param bias Optional bias of length out.
 * @returns tokens×out.
 * @throws {Error} On shape mismatches.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { loraForward } from "./lora.ts";
 * const y = await loraForward(fromRows([[1, 2]]), fromRows([[1, 0]]), { A: fromRows([[0, 1]]), B: fromRows([[1]]), alpha: 1 });
 * assert.deepEqual(Array.from(y.data), [3]);
 * ```
 */
export async function loraForward(
  x: Matrix,
  W: Matrix,
  adapter: LoraAdapter,
  bias?: Float32Array,
): Promise<Matrix> {
  const r = checkAdapter(W, adapter);
  const s = loraScaling(adapter.alpha, r, adapter.rslora);
  const base = await matmul(x, W, { transB: true });
  const low = await matmul(await matmul(x, adapter.A, { transB: true }), adapter.B, { transB: true });
  const y = addScaled(base, low, s);
  if (bias) addBias(y, bias);
  return y;
}

/**
 * Adds a bias to every row, in place.
 *
 * @param y tokens×out.
 * @param bias Length out.
 * @throws {Error} When the lengths differ.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matrix } from "../math/matrix.ts";
 * import { addBias } from "./lora.ts";
 * const y = matrix(1, 2);
 * addBias(y, new Float32Array([1, 2]));
 * assert.deepEqual(Array.from(y.data), [1, 2]);
 * ```
 */
export function addBias(y: Matrix, bias: Float32Array): void {
  if (bias.length !== y.cols) {
    throw new Error(`Bias has ${bias.length} values; the layer has ${y.cols} outputs.`);
  }
  for (let i = 0; i < y.rows; i++) for (let j = 0; j < y.cols; j++) y.data[i * y.cols + j] += bias[j];
}

/**
 * Merges the adapter into the weight: `W + s·B·A`.
 *
 * @param W The frozen weight.
 * @param adapter The adapter.
 * @returns The merged weight (a new matrix).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { loraMerge } from "./lora.ts";
 * const m = await loraMerge(fromRows([[1, 1]]), { A: fromRows([[1, 0]]), B: fromRows([[1]]), alpha: 1 });
 * assert.deepEqual(Array.from(m.data), [2, 1]);
 * ```
 */
export async function loraMerge(W: Matrix, adapter: LoraAdapter): Promise<Matrix> {
  checkAdapter(W, adapter);
  return addScaled(W, await loraDelta(adapter));
}

/**
 * Undoes {@linkcode loraMerge}: `W_merged − s·B·A`.
 *
 * @param merged The merged weight.
 * @param adapter The adapter that was merged.
 * @returns The original weight (up to float rounding).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { loraUnmerge } from "./lora.ts";
 * const w = await loraUnmerge(fromRows([[2, 1]]), { A: fromRows([[1, 0]]), B: fromRows([[1]]), alpha: 1 });
 * assert.deepEqual(Array.from(w.data), [1, 1]);
 * ```
 */
export async function loraUnmerge(merged: Matrix, adapter: LoraAdapter): Promise<Matrix> {
  checkAdapter(merged, adapter);
  return addScaled(merged, await loraDelta(adapter), -1);
}

/** The shapes of a decoder-only transformer, as in a Hugging Face `config.json`. */
export interface ModelShape {
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Defaults to `num_attention_heads` (no grouped-query attention). */
  num_key_value_heads?: number;
  /** Defaults to `hidden_size / num_attention_heads`. */
  head_dim?: number;
}

/**
 * The (in, out) sizes of each Llama-style linear layer, by module name.
 *
 * @param config The model's shapes.
 * @returns `{ q_proj: [in, out], … }` for q/k/v/o/gate/up/down.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { linearShapes } from "./lora.ts";
 * const s = linearShapes({ hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1, num_attention_heads: 2 });
 * assert.deepEqual(s.down_proj, [16, 8]);
 * ```
 */
export function linearShapes(config: ModelShape): Record<string, [number, number]> {
  const h = config.hidden_size, i = config.intermediate_size;
  const headDim = config.head_dim ?? h / config.num_attention_heads;
  const kv = (config.num_key_value_heads ?? config.num_attention_heads) * headDim;
  const q = config.num_attention_heads * headDim;
  return {
    q_proj: [h, q],
    k_proj: [h, kv],
    v_proj: [h, kv],
    o_proj: [q, h],
    gate_proj: [h, i],
    up_proj: [h, i],
    down_proj: [i, h],
  };
}

/**
 * The trainable parameters an adapter adds to one `in → out` linear layer: A (r × in) and B (out × r),
 * plus DoRA's magnitude vector (one per output row).
 *
 * @param inFeatures The layer's input size.
 * @param outFeatures The layer's output size.
 * @param r The rank.
 * @param options `dora: true` adds the magnitude vector.
 * @returns `r·(in + out)` (+ `out` for DoRA).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { adapterMatrixParams } from "./lora.ts";
 * assert.equal(adapterMatrixParams(160, 448, 8), 4864);
 * assert.equal(adapterMatrixParams(160, 448, 8, { dora: true }), 5312);
 * ```
 */
export function adapterMatrixParams(
  inFeatures: number,
  outFeatures: number,
  r: number,
  options: { dora?: boolean } = {},
): number {
  return r * (inFeatures + outFeatures) + (options.dora ? outFeatures : 0);
}

/**
 * LoRA's trainable parameters for a model: `r·(in + out)` per targeted layer, in every block.
 *
 * @param config The model's shapes.
 * @param options The rank and the targeted module names (e.g. `["q_proj", "v_proj"]`).
 * @returns The count.
 * @throws {Error} On an unknown module name, listing the known ones.
 *
 * @example Llama-style, r = 8 on q and v
 * ```ts
 * import assert from "node:assert/strict";
 * import { loraTrainableParams } from "./lora.ts";
 * const n = loraTrainableParams(
 *   { hidden_size: 4096, intermediate_size: 11008, num_hidden_layers: 32, num_attention_heads: 32 },
 *   { r: 8, targetModules: ["q_proj", "v_proj"] },
 * );
 * assert.equal(n, 4194304);
 * ```
 */
export function loraTrainableParams(
  config: ModelShape,
  options: { r: number; targetModules: string[] },
): number {
  const shapes = linearShapes(config);
  let perLayer = 0;
  for (const name of options.targetModules) {
    const shape = shapes[name];
    if (!shape) {
      throw new Error(`Unknown target module "${name}": use some of ${Object.keys(shapes).join(", ")}.`);
    }
    perLayer += adapterMatrixParams(shape[0], shape[1], options.r);
  }
  return perLayer * config.num_hidden_layers;
}
