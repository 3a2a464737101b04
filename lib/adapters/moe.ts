/**
 * Mixture-of-Experts routing: a softmax router picks the top-k experts per token (Mixtral:
 * renormalised weights), the Switch Transformer's auxiliary loss pushes towards balanced experts,
 * and a capacity limit drops the tokens an expert has no room for.
 *
 * @module
 */
import type { Matrix } from "../math/matrix.ts";

/** The router's decision for a batch of tokens. */
export interface Routing {
  /** tokens×experts softmax probabilities. */
  probs: Matrix;
  /** tokens×k chosen experts, most probable first. */
  indices: Int32Array[];
  /** tokens×k mixing weights (renormalised to sum to 1 when asked). */
  weights: Float32Array[];
}

/**
 * Routes tokens: softmax over the router logits, then the top-k experts per token.
 *
 * @param logits tokens×experts router logits (`x · W_gᵀ`).
 * @param k Experts per token.
 * @param options `normalize` (default true, as Mixtral) rescales the k weights to sum to 1.
 * @returns Probabilities, chosen experts and weights.
 * @throws {Error} When k is not between 1 and the number of experts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { routeTopK } from "./moe.ts";
 * const r = routeTopK(fromRows([[0, 2, 1]]), 2);
 * assert.deepEqual(Array.from(r.indices[0]), [1, 2]);
 * assert.deepEqual(Array.from(r.weights[0], (w) => w.toFixed(3)), ["0.731", "0.269"]); // renormalised to sum to 1
 * ```
 */
export function routeTopK(logits: Matrix, k: number, options: { normalize?: boolean } = {}): Routing {
  const E = logits.cols;
  if (!Number.isInteger(k) || k < 1 || k > E) {
    throw new Error(`top-k: k = ${k} must be from 1 to the ${E} experts.`);
  }
  const probs = { rows: logits.rows, cols: E, data: new Float32Array(logits.data.length) };
  const indices: Int32Array[] = [], weights: Float32Array[] = [];
  for (let t = 0; t < logits.rows; t++) {
    const row = logits.data.subarray(t * E, (t + 1) * E);
    const max = Math.max(...row);
    let sum = 0;
    for (let e = 0; e < E; e++) sum += Math.exp(row[e] - max);
    for (let e = 0; e < E; e++) probs.data[t * E + e] = Math.exp(row[e] - max) / sum;
    const p = probs.data.subarray(t * E, (t + 1) * E);
    const order = Array.from({ length: E }, (_, e) => e).sort((a, b) => p[b] - p[a] || a - b).slice(0, k);
    const w = Float32Array.from(order, (e) => p[e]);
    if (options.normalize ?? true) {
      const s = w.reduce((a, b) => a + b, 0);
      for (let i = 0; i < k; i++) w[i] /= s;
    }
    indices.push(Int32Array.from(order));
    weights.push(w);
  }
  return { probs, indices, weights };
}

/**
 * The Switch/Mixtral load-balancing loss: `E · Σ_e f_e · P_e`, where `f_e` is the share of routing
 * slots sent to expert e (counting all k choices) and `P_e` its mean router probability. Equals k
 * when routing is perfectly balanced, more when it is not.
 *
 * @param routing The routing of {@linkcode routeTopK}.
 * @returns The auxiliary loss (before its coefficient).
 *
 * @example Balanced routing gives k; sending every token to one expert gives about E
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { loadBalancingLoss, routeTopK } from "./moe.ts";
 * assert.equal(loadBalancingLoss(routeTopK(fromRows([[5, 0], [0, 5]]), 1)).toFixed(3), "1.000");
 * assert.equal(loadBalancingLoss(routeTopK(fromRows([[5, 0], [5, 0]]), 1)).toFixed(3), "1.987");
 * ```
 */
export function loadBalancingLoss(routing: Routing): number {
  const { probs, indices } = routing;
  const E = probs.cols, T = probs.rows;
  const f = new Float64Array(E), P = new Float64Array(E);
  for (let t = 0; t < T; t++) {
    for (const e of indices[t]) f[e] += 1;
    for (let e = 0; e < E; e++) P[e] += probs.data[t * E + e];
  }
  let loss = 0;
  for (let e = 0; e < E; e++) loss += (f[e] / T) * (P[e] / T);
  return loss * E;
}

/**
 * An expert's capacity: `ceil(capacityFactor · tokens · k / experts)` routing slots.
 *
 * @param tokens Tokens in the batch.
 * @param experts Number of experts.
 * @param k Experts per token.
 * @param capacityFactor Slack over a perfectly even split (Switch used 1.0–1.25).
 * @returns Slots per expert.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { expertCapacity } from "./moe.ts";
 * assert.equal(expertCapacity(16, 4, 2, 1.25), 10);
 * ```
 */
export function expertCapacity(tokens: number, experts: number, k: number, capacityFactor = 1.25): number {
  return Math.ceil((capacityFactor * tokens * k) / experts);
}

/**
 * Assigns routing slots to experts in token order; a slot whose expert is full is dropped (the token
 * then skips that expert, passing through the residual connection).
 *
 * @param routing The routing.
 * @param capacity Slots per expert (see {@linkcode expertCapacity}).
 * @returns Per expert, the tokens it processes; the dropped (token, expert) pairs; the drop rate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { dispatch, routeTopK } from "./moe.ts";
 * const d = dispatch(routeTopK(fromRows([[5, 0], [5, 0], [5, 0]]), 1), 2);
 * assert.deepEqual(d.perExpert, [[0, 1], []]);
 * assert.deepEqual(d.dropped, [[2, 0]]);
 * assert.equal(d.dropRate.toFixed(2), "0.33");
 * ```
 */
export function dispatch(
  routing: Routing,
  capacity: number,
): { perExpert: number[][]; dropped: [number, number][]; dropRate: number } {
  const E = routing.probs.cols;
  const perExpert: number[][] = Array.from({ length: E }, () => []);
  const dropped: [number, number][] = [];
  let slots = 0;
  routing.indices.forEach((choice, t) => {
    for (const e of choice) {
      slots++;
      if (perExpert[e].length < capacity) perExpert[e].push(t);
      else dropped.push([t, e]);
    }
  });
  return { perExpert, dropped, dropRate: slots ? dropped.length / slots : 0 };
}
