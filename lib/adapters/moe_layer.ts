/**
 * A tiny trainable mixture-of-experts layer: a router `W_g` (E×d, no bias, as Mixtral), E experts that
 * are 2-layer ReLU MLPs (d→h→out), top-k routing with the k gate weights renormalised to sum to 1
 * (Mixtral), `out = Σ_k gate_k · expert_k(x)`. The backward pass is written out by hand: the router is
 * trained through the gate weights and through the Switch load-balancing loss's mean probabilities
 * `P_e` (the routed fractions `f_e` are counts, not differentiable, as in Switch). Adam trains it on a
 * toy task so a lesson can watch routing collapse without the balancing loss and stay even with it.
 *
 * @module
 */
import { type Matrix, matrix, randn } from "../math/matrix.ts";
import { matmul, type MatmulOptions, matmulPlain } from "../math/matmul.ts";
import { loadBalancingLoss, routeTopK, type Routing } from "./moe.ts";

/** One expert: `y = W2 · relu(W1 · x + b1) + b2`. */
export interface MoeExpert {
  /** hidden×d. */
  w1: Matrix;
  /** Length hidden. */
  b1: Float32Array;
  /** out×hidden. */
  w2: Matrix;
  /** Length out. */
  b2: Float32Array;
}

/** A mixture-of-experts layer's weights (gradients have the same shape). */
export interface MoeLayer {
  /** experts×d router weight `W_g`; the router logits are `x · W_gᵀ`. */
  router: Matrix;
  experts: MoeExpert[];
}

/** Sizes and initialisation of {@linkcode createMoeLayer}. */
export interface MoeLayerOptions {
  /** Input size d. */
  dim: number;
  /** Hidden size of each expert's MLP. */
  hidden: number;
  /** Output size. */
  out: number;
  /** Number of experts E. */
  experts: number;
  /** Seed of the initial weights (default 0). */
  seed?: number;
  /** Standard deviation of the router's initial weights (default 0.01: near-uniform routing probabilities). */
  routerInitStd?: number;
}

/**
 * A freshly initialised layer: He-normal `W1`, `W2` scaled by `1/√hidden`, zero biases, a small random
 * router. Same options, same weights.
 *
 * @param options Sizes and seed.
 * @returns The layer.
 * @throws {Error} When a size is not a positive whole number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createMoeLayer } from "./moe_layer.ts";
 * const layer = createMoeLayer({ dim: 4, hidden: 8, out: 2, experts: 3 });
 * assert.deepEqual([layer.router.rows, layer.router.cols, layer.experts.length, layer.experts[0].w2.rows], [3, 4, 3, 2]);
 * assert.deepEqual(layer, createMoeLayer({ dim: 4, hidden: 8, out: 2, experts: 3 }));
 * ```
 */
export function createMoeLayer(options: MoeLayerOptions): MoeLayer {
  const { dim, hidden, out, experts, seed = 0, routerInitStd = 0.01 } = options;
  for (const [name, v] of Object.entries({ dim, hidden, out, experts })) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`MoE layer: ${name} = ${v} must be a whole number ≥ 1.`);
    }
  }
  const base = seed * 1_000_003;
  const scaled = (m: Matrix, s: number): Matrix => matrix(m.rows, m.cols, m.data.map((v) => v * s));
  return {
    router: scaled(randn(experts, dim, base), routerInitStd),
    experts: Array.from({ length: experts }, (_, e) => ({
      w1: scaled(randn(hidden, dim, base + 2 * e + 1), Math.sqrt(2 / dim)),
      b1: new Float32Array(hidden),
      w2: scaled(randn(out, hidden, base + 2 * e + 2), 1 / Math.sqrt(hidden)),
      b2: new Float32Array(out),
    })),
  };
}

/** Options of {@linkcode moeLossAndGradients}. */
export interface MoeLossOptions {
  /** Experts per token (default 2). */
  topK?: number;
  /** Weight of the load-balancing loss in the total (default 0: none). */
  balanceCoef?: number;
  /** The matmul path for every product (default: lib/math's choice by size). */
  backend?: MatmulOptions["backend"];
}

/** The losses, the routing and the gradient of {@linkcode moeLossAndGradients}. */
export interface MoeLossAndGradients {
  /** `taskLoss + balanceCoef · auxLoss`, the loss the gradients are of. */
  loss: number;
  /** Mean squared error over tokens and outputs. */
  taskLoss: number;
  /** The Switch load-balancing loss `E · Σ_e f_e · P_e` (k when even), computed even when its weight is 0. */
  auxLoss: number;
  /** The routing of this batch (probabilities, chosen experts, renormalised gates). */
  routing: Routing;
  /** tokens×out layer output. */
  output: Matrix;
  /** d loss / d every weight, shaped like the layer. */
  grads: MoeLayer;
}

/**
 * Forward and hand-written backward pass of the layer under the loss
 * `mean((out − y)²) + balanceCoef · E · Σ_e f_e · P_e`.
 *
 * Backward, per token t with chosen experts `S` and gates `g_j = softmax(z_S)_j`:
 * `∂L/∂g_j = G_t · y_{S_j}(x_t)` with `G_t = ∂L/∂out_t`; through the renormalised softmax
 * `∂L/∂z_{S_j} = g_j (∂L/∂g_j − Σ_i g_i ∂L/∂g_i)` (the unchosen logits get nothing from the task); the
 * aux loss adds `∂L/∂P_{t,e} = balanceCoef · E · f_e / T` through the full softmax. Each expert's MLP
 * gets `g_j · G_t` on the rows it processed.
 *
 * @param layer The weights.
 * @param x tokens×d inputs.
 * @param y tokens×out targets.
 * @param options topK, balanceCoef, matmul backend.
 * @returns Losses, routing, output and gradients.
 * @throws {Error} When the shapes of `x`, `y` and the layer disagree, or topK is out of range.
 *
 * @example One expert, k = 1: the gate is 1 and the router gets no gradient from the task
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { createMoeLayer, moeLossAndGradients } from "./moe_layer.ts";
 * const layer = createMoeLayer({ dim: 2, hidden: 3, out: 1, experts: 1 });
 * const r = await moeLossAndGradients(layer, fromRows([[1, 2]]), fromRows([[0]]), { topK: 1 });
 * assert.ok(r.taskLoss > 0);
 * assert.deepEqual(Array.from(r.grads.router.data), [0, 0]);
 * assert.equal(r.auxLoss, 1);
 * ```
 */
export async function moeLossAndGradients(
  layer: MoeLayer,
  x: Matrix,
  y: Matrix,
  options: MoeLossOptions = {},
): Promise<MoeLossAndGradients> {
  const { topK = 2, balanceCoef = 0, backend } = options;
  const E = layer.router.rows, d = layer.router.cols, T = x.rows, O = y.cols;
  if (x.cols !== d || y.rows !== T || layer.experts.some((ex) => ex.w1.cols !== d || ex.w2.rows !== O)) {
    throw new Error(
      `MoE layer: x is ${T}×${x.cols} and y ${y.rows}×${O}, but the router takes d = ${d} inputs and the ` +
        `experts give ${
          layer.experts[0]?.w2.rows
        } outputs. Pass one row per token in x and y with those sizes.`,
    );
  }
  const mm = (a: Matrix, b: Matrix, o: MatmulOptions = {}) => matmul(a, b, { ...o, backend });

  // Router: logits, softmax, top-k, renormalised gates (moe.ts), and the Switch aux loss.
  const routing = routeTopK(await mm(x, layer.router, { transB: true }), topK);
  const auxLoss = loadBalancingLoss(routing);

  // Which (token, slot) pairs each expert processes.
  const rows: { t: number; j: number }[][] = Array.from({ length: E }, () => []);
  routing.indices.forEach((chosen, t) => chosen.forEach((e, j) => rows[e].push({ t, j })));

  // Experts forward: y_e = W2 relu(W1 x + b1) + b2 on the gathered rows; out = Σ gate · y_e.
  const output = matrix(T, O);
  const cache = await Promise.all(layer.experts.map(async (ex, e) => {
    const xe = _gather(x, rows[e].map((r) => r.t));
    const pre = _addRow(await mm(xe, ex.w1, { transB: true }), ex.b1);
    const h = matrix(pre.rows, pre.cols, pre.data.map((v) => (v > 0 ? v : 0)));
    const ye = _addRow(await mm(h, ex.w2, { transB: true }), ex.b2);
    rows[e].forEach(({ t, j }, i) => {
      const g = routing.weights[t][j];
      for (let o = 0; o < O; o++) output.data[t * O + o] += g * ye.data[i * O + o];
    });
    return { xe, pre, h, ye };
  }));

  // Task loss and ∂L/∂out.
  let taskLoss = 0;
  const dOut = new Float32Array(T * O);
  for (let i = 0; i < T * O; i++) {
    const r = output.data[i] - y.data[i];
    taskLoss += r * r;
    dOut[i] = (2 * r) / (T * O);
  }
  taskLoss /= T * O;

  // Experts backward, and ∂L/∂gate for each (token, slot).
  const dGate = routing.indices.map((c) => new Float64Array(c.length));
  const expertGrads = await Promise.all(layer.experts.map(async (ex, e) => {
    const { xe, pre, h, ye } = cache[e];
    const dy = matrix(ye.rows, O);
    rows[e].forEach(({ t, j }, i) => {
      const g = routing.weights[t][j];
      let dg = 0;
      for (let o = 0; o < O; o++) {
        dy.data[i * O + o] = g * dOut[t * O + o];
        dg += dOut[t * O + o] * ye.data[i * O + o];
      }
      dGate[t][j] = dg;
    });
    const dPre = await mm(dy, ex.w2);
    for (let i = 0; i < dPre.data.length; i++) if (pre.data[i] <= 0) dPre.data[i] = 0;
    return {
      w1: await mm(dPre, xe, { transA: true }),
      b1: _sumRows(dPre),
      w2: await mm(dy, h, { transA: true }),
      b2: _sumRows(dy),
    };
  }));

  // Router backward: through the renormalised gates (chosen logits only) and the aux loss's P_e.
  const f = new Float64Array(E);
  for (const chosen of routing.indices) for (const e of chosen) f[e] += 1 / T;
  const dLogits = matrix(T, E);
  for (let t = 0; t < T; t++) {
    const chosen = routing.indices[t], g = routing.weights[t];
    let mean = 0;
    for (let j = 0; j < chosen.length; j++) mean += g[j] * dGate[t][j];
    for (let j = 0; j < chosen.length; j++) dLogits.data[t * E + chosen[j]] += g[j] * (dGate[t][j] - mean);
    if (balanceCoef !== 0) {
      const p = routing.probs.data.subarray(t * E, (t + 1) * E);
      let pa = 0;
      for (let e = 0; e < E; e++) pa += p[e] * f[e];
      for (let e = 0; e < E; e++) dLogits.data[t * E + e] += (balanceCoef * E / T) * p[e] * (f[e] - pa);
    }
  }
  const grads = { router: await mm(dLogits, x, { transA: true }), experts: expertGrads };
  return { loss: taskLoss + balanceCoef * auxLoss, taskLoss, auxLoss, routing, output, grads };
}

/** Parameters per token: what one token runs through, and what the layer holds. */
export interface MoeParamCounts {
  /** Router + k experts (the router scores every expert for every token, so all of it is active). */
  active: number;
  /** Router + all E experts. */
  total: number;
}

/**
 * Active and total parameters of a layer with the given sizes: router `E·d`, each expert
 * `h·d + h + out·h + out`.
 *
 * @param options The layer's sizes and topK.
 * @returns Active (router + k experts) and total (router + E experts) parameter counts.
 *
 * @example 8 experts of 8→16→4, top-2: 64 + 2·212 of 64 + 8·212
 * ```ts
 * import assert from "node:assert/strict";
 * import { moeParamCounts } from "./moe_layer.ts";
 * assert.deepEqual(moeParamCounts({ dim: 8, hidden: 16, out: 4, experts: 8, topK: 2 }), { active: 488, total: 1760 });
 * ```
 */
export function moeParamCounts(
  options: Pick<MoeLayerOptions, "dim" | "hidden" | "out" | "experts"> & { topK: number },
): MoeParamCounts {
  const { dim, hidden, out, experts, topK } = options;
  const router = experts * dim, expert = hidden * dim + hidden + out * hidden + out;
  return { active: router + topK * expert, total: router + experts * expert };
}

/** Options of {@linkcode trainToyMoe}; every one has a default. */
export interface ToyMoeOptions {
  /** Seed of the task, the initial weights and the batches (default 0). */
  seed?: number;
  /** Number of experts E (default 8). */
  experts?: number;
  /** Experts per token (default 2). */
  topK?: number;
  /** Input size d (default 8). */
  dim?: number;
  /** Hidden size of each expert (default 16). */
  hidden?: number;
  /** Output size (default 4). */
  out?: number;
  /** Clusters the inputs are drawn from (default 8). */
  clusters?: number;
  /**
   * Length of the direction every input shares (default 8; the cluster centres are about 5.7 from
   * it). Real hidden states share directions too; at 0 nothing is common to all tokens and routing
   * does not collapse.
   */
  shared?: number;
  /** Optimizer steps (default 300). */
  steps?: number;
  /** Tokens per batch, a fresh batch each step (default 128). */
  batchSize?: number;
  /** Adam learning rate for every weight (default 0.01). */
  lr?: number;
  /**
   * Weight of the load-balancing loss; 0 turns it off (default 0.1). Switch's 0.01 is too weak here:
   * the collapse happens in the first ~20 steps, while the task loss is still 10 → 0.3.
   */
  balanceCoef?: number;
  /** Record the curves and histograms every this many steps (default 10). */
  logEvery?: number;
  /** Tokens in the fixed held-out batch measured before and after training (default 1024). */
  evalTokens?: number;
  /** The matmul path: `"auto"` is lib/math's choice by size (default), or force `"plain"` / `"onnx"`. */
  backend?: "auto" | "plain" | "onnx";
}

/** One row of the training record. */
export interface ToyMoeLogRow {
  step: number;
  /** This batch's total loss (task + balanceCoef · aux). */
  loss: number;
  /** This batch's mean squared error. */
  taskLoss: number;
  /** This batch's load-balancing loss (k when even). */
  auxLoss: number;
  /** Routing slots each expert received in this batch (sums to batchSize · topK). */
  tokensPerExpert: number[];
}

/** How evenly routing slots spread over the experts (each token counts once per chosen expert). */
export interface RoutingSpread {
  /** Fraction of routing slots per expert (sums to 1). */
  shares: number[];
  /** The busiest expert's share: 1/E when even, 1/k when one expert is in every token's top-k. */
  maxShare: number;
  /** Entropy of the shares ÷ log E: 1 when even, log k / log E when k experts take everything. */
  entropy: number;
  /** Experts receiving at least half an even share (≥ 1/(2E) of the slots). */
  expertsInUse: number;
}

/** What {@linkcode trainToyMoe} measured. */
export interface ToyMoeResult {
  /** The options used, defaults filled in. */
  options: Required<ToyMoeOptions>;
  /** Curves and histograms every `logEvery` steps and at the last step (on that step's batch). */
  log: ToyMoeLogRow[];
  /** Held-out task loss before training. */
  initialLoss: number;
  /** Held-out task loss after training. */
  finalLoss: number;
  /** Held-out routing before training. */
  initialSpread: RoutingSpread;
  /** Held-out routing after training. */
  finalSpread: RoutingSpread;
  /** Parameters one token runs through (router + k experts). */
  activeParams: number;
  /** Parameters the layer holds (router + E experts). */
  totalParams: number;
  /** The trained layer. */
  layer: MoeLayer;
  /** Wall-clock time of the whole call, in milliseconds. */
  ms: number;
}

/**
 * Trains a mixture-of-experts layer with Adam on a toy regression task and records how its routing
 * spreads. Inputs are `shared direction + cluster centre + noise` (centres summing to zero); the
 * target is one linear map for every input, so any expert can learn it. The router starts orthogonal
 * to the shared direction, so step 0 routes by cluster and is spread: a collapse that follows is
 * learned, not inherited from the initialisation.
 *
 * @param options Sizes, steps, learning rate, balanceCoef, seed, matmul backend.
 * @returns Curves, routing spread and held-out loss before and after, parameter counts, the layer.
 * @throws {Error} When a size is not a positive whole number or topK exceeds the experts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trainToyMoe } from "./moe_layer.ts";
 * const r = await trainToyMoe({ steps: 20, logEvery: 10 });
 * assert.ok(r.finalLoss < r.initialLoss);
 * assert.deepEqual(r.log.map((row) => row.step), [0, 10, 19]);
 * assert.equal(r.log[0].tokensPerExpert.reduce((a, b) => a + b), 128 * 2);
 * assert.deepEqual([r.activeParams, r.totalParams], [488, 1760]);
 * ```
 */
export async function trainToyMoe(options: ToyMoeOptions = {}): Promise<ToyMoeResult> {
  const start = performance.now();
  const o: Required<ToyMoeOptions> = {
    seed: 0,
    experts: 8,
    topK: 2,
    dim: 8,
    hidden: 16,
    out: 4,
    clusters: 8,
    shared: 8,
    steps: 300,
    batchSize: 128,
    lr: 0.01,
    balanceCoef: 0.1,
    logEvery: 10,
    evalTokens: 1024,
    backend: "auto",
    ...options,
  };
  for (const name of ["steps", "batchSize", "clusters", "logEvery", "evalTokens"] as const) {
    if (!Number.isInteger(o[name]) || o[name] < 1) {
      throw new Error(`trainToyMoe: ${name} = ${o[name]} must be a whole number ≥ 1.`);
    }
  }
  if (!Number.isInteger(o.topK) || o.topK < 1 || o.topK > o.experts) {
    throw new Error(`trainToyMoe: topK = ${o.topK} must be from 1 to the ${o.experts} experts.`);
  }
  const seed = o.seed * 1_000_003;
  const task = _toyTask(o, seed + 100_000);
  const layer = createMoeLayer({ ...o, seed: o.seed });
  _orthogonalise(layer.router, task.shared);
  const lossOpts = {
    topK: o.topK,
    balanceCoef: o.balanceCoef,
    backend: o.backend === "auto" ? undefined : o.backend,
  };
  const held = _toyBatch(task, o.evalTokens, seed + 999_999);
  const evaluate = async () => {
    const r = await moeLossAndGradients(layer, held.x, held.y, lossOpts);
    return { loss: r.taskLoss, spread: routingSpread(r.routing) };
  };
  const before = await evaluate();
  const adam = _adam(_params(layer), o.lr);
  const log: ToyMoeLogRow[] = [];
  for (let step = 0; step < o.steps; step++) {
    const { x, y } = _toyBatch(task, o.batchSize, seed + 500_000 + step);
    const r = await moeLossAndGradients(layer, x, y, lossOpts);
    if (step % o.logEvery === 0 || step === o.steps - 1) {
      const tokensPerExpert = new Array(o.experts).fill(0);
      for (const chosen of r.routing.indices) for (const e of chosen) tokensPerExpert[e]++;
      log.push({ step, loss: r.loss, taskLoss: r.taskLoss, auxLoss: r.auxLoss, tokensPerExpert });
    }
    adam(_params(r.grads));
  }
  const after = await evaluate();
  const counts = moeParamCounts(o);
  return {
    options: o,
    log,
    initialLoss: before.loss,
    finalLoss: after.loss,
    initialSpread: before.spread,
    finalSpread: after.spread,
    activeParams: counts.active,
    totalParams: counts.total,
    layer,
    ms: performance.now() - start,
  };
}

/**
 * How evenly a routing spreads its slots over the experts, each token counted once per chosen expert
 * (as the Switch loss's `f_e`).
 *
 * @param routing A routing from {@linkcode routeTopK}.
 * @returns Shares, the busiest expert's share, normalised entropy and the experts in use.
 *
 * @example Two of four experts take every token
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRows } from "../math/matrix.ts";
 * import { routeTopK } from "./moe.ts";
 * import { routingSpread } from "./moe_layer.ts";
 * const s = routingSpread(routeTopK(fromRows([[3, 2, 0, 0], [2, 3, 0, 0]]), 2));
 * assert.deepEqual(s.shares, [0.5, 0.5, 0, 0]);
 * assert.deepEqual([s.maxShare, s.entropy, s.expertsInUse], [0.5, 0.5, 2]);
 * ```
 */
export function routingSpread(routing: Routing): RoutingSpread {
  const E = routing.probs.cols;
  const counts = new Array(E).fill(0);
  for (const chosen of routing.indices) for (const e of chosen) counts[e]++;
  const slots = counts.reduce((a, b) => a + b, 0) || 1;
  const shares = counts.map((c) => c / slots);
  const h = -shares.reduce((s, p) => s + (p > 0 ? p * Math.log(p) : 0), 0);
  return {
    shares,
    maxShare: Math.max(...shares),
    entropy: E > 1 ? h / Math.log(E) : 1,
    expertsInUse: shares.filter((p) => p >= 1 / (2 * E)).length,
  };
}

interface _ToyTask {
  /** clusters×d centres: a shared direction plus zero-sum offsets. */
  centres: Matrix;
  /** The unit shared direction (length d). */
  shared: Float32Array;
  /** The out×d target map, the same for every input. */
  map: Matrix;
}

function _toyTask(o: Required<ToyMoeOptions>, seed: number): _ToyTask {
  const C = o.clusters, d = o.dim;
  const raw = randn(1, d, seed).data;
  const shared = raw.map((v) => v / Math.hypot(...raw));
  const centres = randn(C, d, seed + 1);
  const mean = new Float32Array(d);
  for (let i = 0; i < C * d; i++) mean[i % d] += centres.data[i] / C;
  for (let i = 0; i < C * d; i++) {
    centres.data[i] = 2 * (centres.data[i] - mean[i % d]) + o.shared * shared[i % d];
  }
  const m = randn(o.out, d, seed + 2);
  return { centres, shared, map: matrix(o.out, d, m.data.map((v) => v / Math.sqrt(d))) };
}

/** Token t comes from cluster `t mod clusters` plus N(0, 0.5²) noise; its target is `map · x`. */
function _toyBatch(task: _ToyTask, tokens: number, seed: number): { x: Matrix; y: Matrix } {
  const { centres, map } = task;
  const d = centres.cols, C = centres.rows;
  const x = randn(tokens, d, seed);
  for (let t = 0; t < tokens; t++) {
    for (let i = 0; i < d; i++) x.data[t * d + i] = centres.data[(t % C) * d + i] + 0.5 * x.data[t * d + i];
  }
  return { x, y: matmulPlain(x, map, { transB: true }) };
}

/** Removes from each row of `w` its component along the unit vector `u`. */
function _orthogonalise(w: Matrix, u: Float32Array): void {
  for (let r = 0; r < w.rows; r++) {
    const row = w.data.subarray(r * w.cols, (r + 1) * w.cols);
    const dot = row.reduce((s, v, i) => s + v * u[i], 0);
    for (let i = 0; i < w.cols; i++) row[i] -= dot * u[i];
  }
}

function _gather(x: Matrix, tokens: number[]): Matrix {
  const out = matrix(tokens.length, x.cols);
  tokens.forEach((t, i) => out.data.set(x.data.subarray(t * x.cols, (t + 1) * x.cols), i * x.cols));
  return out;
}

function _addRow(m: Matrix, b: Float32Array): Matrix {
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) m.data[i * m.cols + j] += b[j];
  return m;
}

function _sumRows(m: Matrix): Float32Array {
  const s = new Float32Array(m.cols);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) s[j] += m.data[i * m.cols + j];
  return s;
}

/** The layer's (or its gradient's) arrays in one fixed order. */
function _params(l: MoeLayer): Float32Array[] {
  return [l.router.data, ...l.experts.flatMap((e) => [e.w1.data, e.b1, e.w2.data, e.b2])];
}

/** Adam (β1 0.9, β2 0.999, ε 1e-8, bias-corrected), updating `params` in place. */
function _adam(params: Float32Array[], lr: number): (grads: Float32Array[]) => void {
  const m = params.map((p) => new Float32Array(p.length)), v = params.map((p) => new Float32Array(p.length));
  let t = 0;
  return (grads) => {
    t++;
    const c1 = 1 - 0.9 ** t, c2 = 1 - 0.999 ** t;
    params.forEach((p, k) => {
      const g = grads[k], mk = m[k], vk = v[k];
      for (let i = 0; i < p.length; i++) {
        mk[i] = 0.9 * mk[i] + 0.1 * g[i];
        vk[i] = 0.999 * vk[i] + 0.001 * g[i] * g[i];
        p[i] -= (lr * (mk[i] / c1)) / (Math.sqrt(vk[i] / c2) + 1e-8);
      }
    });
  };
}
