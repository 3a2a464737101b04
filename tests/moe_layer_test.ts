/**
 * The trainable MoE layer (lib/adapters/moe_layer.ts): its hand-written gradients against PyTorch
 * autograd (tests/fixtures/moe/moe_reference.py), the collapse / no-collapse outcome over three seeds,
 * and the active/total parameter counts against a hand count.
 */
import assert from "node:assert/strict";
import { type Matrix, randn, toRows } from "../lib/math/matrix.ts";
import {
  createMoeLayer,
  type MoeLayer,
  moeLossAndGradients,
  moeParamCounts,
  trainToyMoe,
} from "../lib/adapters/moe_layer.ts";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";
import { runCommand } from "../lib/util/run_command.ts";

type Nested = number | Nested[];
const dump = (l: MoeLayer) => ({
  router: toRows(l.router),
  experts: l.experts.map((e) => ({
    w1: toRows(e.w1),
    b1: Array.from(e.b1),
    w2: toRows(e.w2),
    b2: Array.from(e.b2),
  })),
});
const flat = (v: Nested): number[] => (Array.isArray(v) ? v.flatMap(flat) : [v]);

/** Max |a−b| / max |b|: the error relative to the reference's scale. */
function relErr(a: Nested, b: Nested): number {
  const x = flat(a), y = flat(b);
  assert.equal(x.length, y.length, "sizes differ");
  let num = 0, den = 0;
  x.forEach((v, i) => {
    num = Math.max(num, Math.abs(v - y[i]));
    den = Math.max(den, Math.abs(y[i]));
  });
  return num / (den || 1);
}

Deno.test("moeLossAndGradients() matches PyTorch autograd's losses and gradients for every weight", async () => {
  // Random inputs and a router with std 1 (clearly separated probabilities: no top-k ties), nonzero biases.
  const cases = [
    { topK: 2, balanceCoef: 0.1, experts: 4, seed: 1 },
    { topK: 1, balanceCoef: 0.05, experts: 4, seed: 2 },
    { topK: 3, balanceCoef: 0, experts: 5, seed: 3 },
    { topK: 2, balanceCoef: 1, experts: 6, seed: 4 },
  ].map(({ seed, experts, ...opts }) => {
    const layer = createMoeLayer({ dim: 6, hidden: 7, out: 3, experts, seed, routerInitStd: 1 });
    layer.experts.forEach((ex, e) => {
      ex.b1.set(randn(1, 7, 100 * seed + e).data);
      ex.b2.set(randn(1, 3, 200 * seed + e).data);
    });
    return { layer, x: randn(24, 6, 10 + seed), y: randn(24, 3, 20 + seed), ...opts };
  });
  const file = await Deno.makeTempFile({ suffix: ".json" });
  await Deno.writeTextFile(
    file,
    JSON.stringify(
      cases.map((c) => ({
        ...dump(c.layer),
        x: toRows(c.x),
        y: toRows(c.y),
        topK: c.topK,
        balanceCoef: c.balanceCoef,
      })),
    ),
  );
  const script = `${projectRoot()}/tests/fixtures/moe/moe_reference.py`;
  const refs = JSON.parse(
    await runCommand(pythonPath(), [script, file], "PyTorch MoE reference", {
      env: { OMP_NUM_THREADS: "1" },
    }),
  );
  await Deno.remove(file);
  for (const [i, c] of cases.entries()) {
    const ref = refs[i];
    for (const backend of ["plain", "onnx"] as const) {
      const what = `case ${i} (top-${c.topK}, coef ${c.balanceCoef}, ${backend})`;
      const r = await moeLossAndGradients(c.layer, c.x, c.y, {
        topK: c.topK,
        balanceCoef: c.balanceCoef,
        backend,
      });
      assert.deepEqual(
        r.routing.indices.map((ix) => Array.from(ix)),
        ref.indices,
        `${what}: routing differs`,
      );
      for (const key of ["loss", "taskLoss", "auxLoss"] as const) {
        assert.ok(
          Math.abs(r[key] - ref[key]) <= 1e-5 * Math.abs(ref[key]),
          `${what}: ${key} ${r[key]} vs ${ref[key]}`,
        );
      }
      const mine = dump(r.grads);
      const errs: [string, number][] = [["router", relErr(mine.router, ref.grads.router)]];
      mine.experts.forEach((ex, e) => {
        for (const k of ["w1", "b1", "w2", "b2"] as const) {
          errs.push([`expert ${e} ${k}`, relErr(ex[k], ref.grads.experts[e][k])]);
        }
      });
      for (const [name, err] of errs) {
        assert.ok(err < 1e-4, `${what}: d loss/d ${name} off by ${err.toExponential(2)}`);
      }
      // The router's gradient is not trivially zero (except top-1 without the aux loss, not in this table).
      assert.ok(
        flat(ref.grads.router).some((v) => Math.abs(v) > 1e-4),
        `${what}: reference router gradient is zero`,
      );
    }
  }
});

Deno.test("trainToyMoe() routing collapses without the load-balancing loss and stays even with it, seeds 0-2", async () => {
  // Measured on seeds 0-9 (300 steps, 8 experts, top-2; an even share is 1/8 = 0.125):
  //   start, both:       busiest expert's share ≤ 0.229
  //   balanceCoef 0:     busiest share ≥ 0.417 (0.5 on 9 of 10: one expert in every token's top-2), entropy ≤ 0.58
  //   balanceCoef 0.1:   busiest share ≤ 0.184, entropy ≥ 0.985, least-used share ≥ 0.067
  //   held-out MSE falls ≥ 407-fold in both (from 10–27 to 0.002–0.046).
  // Thresholds sit between those ranges with room: collapsed = busiest ≥ 0.35 and entropy ≤ 0.7;
  // balanced = busiest ≤ 0.25 (2× even), entropy ≥ 0.9, every expert ≥ 1/32 of the slots.
  const start = performance.now();
  for (const seed of [0, 1, 2]) {
    const off = await trainToyMoe({ seed, balanceCoef: 0 });
    const on = await trainToyMoe({ seed, balanceCoef: 0.1 });
    for (const r of [off, on]) {
      const tag = `seed ${seed}, balanceCoef ${r.options.balanceCoef}`;
      assert.ok(
        r.initialSpread.maxShare <= 0.3,
        `${tag}: routing already uneven at step 0 (${r.initialSpread.maxShare})`,
      );
      assert.ok(
        r.finalLoss < r.initialLoss / 100,
        `${tag}: loss ${r.initialLoss} → ${r.finalLoss} did not fall 100-fold`,
      );
    }
    const c = off.finalSpread, b = on.finalSpread;
    assert.ok(
      c.maxShare >= 0.35 && c.entropy <= 0.7,
      `seed ${seed} without LB did not collapse: ${JSON.stringify(c)}`,
    );
    assert.ok(
      b.maxShare <= 0.25 && b.entropy >= 0.9 && Math.min(...b.shares) >= 1 / 32,
      `seed ${seed} with LB is not balanced: ${JSON.stringify(b)}`,
    );
    // The aux loss reads the same: k = 2 when even; measured 4.25–7.54 collapsed, 1.975–2.014 balanced (seeds 0-9).
    const [auxOff, auxOn] = [off.log.at(-1)!.auxLoss, on.log.at(-1)!.auxLoss];
    assert.ok(
      auxOff > 3 && Math.abs(auxOn - 2) < 0.1,
      `seed ${seed}: last aux loss ${auxOff} without LB, ${auxOn} with`,
    );
  }
  console.log(`6 training runs: ${((performance.now() - start) / 1000).toFixed(1)} s`);
});

Deno.test("trainToyMoe() is deterministic for a seed", async () => {
  const a = await trainToyMoe({ seed: 5, steps: 30 }), b = await trainToyMoe({ seed: 5, steps: 30 });
  assert.deepEqual(a.log, b.log);
  assert.deepEqual(a.layer, b.layer);
});

Deno.test("moeParamCounts() and trainToyMoe() count active and total parameters as by hand", async () => {
  const size = (m: Matrix) => m.rows * m.cols;
  const table = [
    // router 8·8 = 64; expert 16·8 + 16 + 4·16 + 4 = 212; active 64 + 2·212, total 64 + 8·212
    { dim: 8, hidden: 16, out: 4, experts: 8, topK: 2, active: 488, total: 1760 },
    // router 4·3 = 12; expert 5·3 + 5 + 2·5 + 2 = 32; active 12 + 32, total 12 + 4·32
    { dim: 3, hidden: 5, out: 2, experts: 4, topK: 1, active: 44, total: 140 },
  ];
  for (const { active, total, ...sizes } of table) {
    assert.deepEqual(moeParamCounts(sizes), { active, total });
    const layer = createMoeLayer(sizes);
    const held = size(layer.router) +
      layer.experts.reduce((s, e) => s + size(e.w1) + e.b1.length + size(e.w2) + e.b2.length, 0);
    assert.equal(held, total, "the layer holds a different number of weights");
  }
  const r = await trainToyMoe({ steps: 1 });
  assert.deepEqual([r.activeParams, r.totalParams], [488, 1760]);
});
