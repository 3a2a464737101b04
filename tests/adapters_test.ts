/**
 * The TypeScript techniques against PEFT's own numbers (tests/fixtures/make_peft_fixtures.py),
 * one table of cases driving every technique, as PEFT's test_custom_models does.
 */
import assert from "node:assert/strict";
import { type Matrix, matrix, readSafetensors, type Tensor } from "../lib/math/mod.ts";
import {
  doraForward,
  doraMerge,
  doraUnmerge,
  loadBalancingLoss,
  loraForward,
  loraMerge,
  loraUnmerge,
  pissaInit,
  pissaToLora,
  routeTopK,
} from "../lib/adapters/mod.ts";
import { nf4Dequantize, nf4Quantize } from "../lib/quant/mod.ts";
import { projectRoot } from "../lib/env/paths.ts";

const { tensors: T, metadata } = await readSafetensors(
  `${projectRoot()}/tests/fixtures/peft_reference.safetensors`,
);
const R = Number(metadata.r), ALPHA = Number(metadata.alpha);

function m(name: string): Matrix {
  const t: Tensor = T[name];
  assert.ok(t, `fixture ${name} missing: rerun tests/fixtures/make_peft_fixtures.py`);
  const [rows, cols] = t.shape.length === 1 ? [1, t.shape[0]] : t.shape;
  return matrix(rows, cols, t.data as Float32Array);
}
const v = (name: string) => T[name].data as Float32Array;

/** Max |a−b| / max(|b|) over all entries: the relative error the 1e-5 bound is about. */
function relErr(a: Matrix | Float32Array, b: Matrix | Float32Array): number {
  const x = "data" in a ? a.data : a, y = "data" in b ? b.data : b;
  assert.equal(x.length, y.length, "sizes differ");
  let num = 0, den = 0;
  for (let i = 0; i < x.length; i++) {
    num = Math.max(num, Math.abs(x[i] - y[i]));
    den = Math.max(den, Math.abs(y[i]));
  }
  return num / (den || 1);
}

/** Flips each singular direction of `got` to match `want`'s sign (SVD vectors are defined up to sign). */
function alignSigns(A: Matrix, B: Matrix, A0: Matrix): { A: Matrix; B: Matrix } {
  const a = { ...A, data: A.data.slice() }, b = { ...B, data: B.data.slice() };
  for (let k = 0; k < A.rows; k++) {
    let dot = 0;
    for (let j = 0; j < A.cols; j++) dot += A.data[k * A.cols + j] * A0.data[k * A.cols + j];
    if (dot < 0) {
      for (let j = 0; j < A.cols; j++) a.data[k * A.cols + j] *= -1;
      for (let i = 0; i < B.rows; i++) b.data[i * B.cols + k] *= -1;
    }
  }
  return { A: a, B: b };
}

const W = m("W"), bias = v("bias"), x = m("x"), A = m("A"), B = m("B");
const TOL = 1e-5;

const cases: { name: string; check: () => Promise<number> | number }[] = [
  {
    name: "LoRA forward",
    check: async () => relErr(await loraForward(x, W, { A, B, alpha: ALPHA }, bias), m("lora.y")),
  },
  {
    name: "LoRA merge",
    check: async () => relErr(await loraMerge(W, { A, B, alpha: ALPHA }), m("lora.merged_W")),
  },
  {
    name: "LoRA unmerge restores W",
    check: async () => relErr(await loraUnmerge(m("lora.merged_W"), { A, B, alpha: ALPHA }), W),
  },
  {
    name: "rsLoRA forward",
    check: async () =>
      relErr(await loraForward(x, W, { A, B, alpha: ALPHA, rslora: true }, bias), m("rslora.y")),
  },
  {
    name: "rsLoRA merge",
    check: async () => relErr(await loraMerge(W, { A, B, alpha: ALPHA, rslora: true }), m("rslora.merged_W")),
  },
  {
    name: "DoRA initial magnitude = row norms of W",
    check: async () =>
      relErr((await import("../lib/adapters/dora.ts")).doraInitMagnitude(W), v("dora.initial_magnitude")),
  },
  {
    name: "DoRA forward",
    check: async () =>
      relErr(
        await doraForward(x, W, { A, B, alpha: ALPHA, magnitude: v("dora.magnitude") }, bias),
        m("dora.y"),
      ),
  },
  {
    name: "DoRA merge",
    check: async () =>
      relErr(
        (await doraMerge(W, { A, B, alpha: ALPHA, magnitude: v("dora.magnitude") })).merged,
        m("dora.merged_W"),
      ),
  },
  {
    name: "DoRA unmerge restores W",
    check: async () => {
      const adapter = { A, B, alpha: ALPHA, magnitude: v("dora.magnitude") };
      const { merged, scale } = await doraMerge(W, adapter);
      return relErr(await doraUnmerge(merged, adapter, scale), W);
    },
  },
  {
    name: "PiSSA init: factors (up to sign)",
    check: async () => {
      const { adapter } = await pissaInit(W, { r: R, alpha: ALPHA });
      const aligned = alignSigns(adapter.A, adapter.B, m("pissa.A0"));
      return Math.max(relErr(aligned.A, m("pissa.A0")), relErr(aligned.B, m("pissa.B0")));
    },
  },
  {
    name: "PiSSA init: residual",
    check: async () => relErr((await pissaInit(W, { r: R, alpha: ALPHA })).residual, m("pissa.W_res")),
  },
  {
    name: "PiSSA → LoRA conversion",
    check: async () => {
      const initial = { A: m("pissa.A0"), B: m("pissa.B0"), alpha: ALPHA };
      const dA = m("pissa.dA"), dB = m("pissa.dB");
      const trained = {
        A: { ...dA, data: dA.data.map((d, i) => d + initial.A.data[i]) },
        B: { ...dB, data: dB.data.map((d, i) => d + initial.B.data[i]) },
        alpha: ALPHA,
      };
      const lora = pissaToLora(trained, initial);
      assert.equal(lora.A.rows, 2 * R);
      assert.equal(lora.alpha, 2 * ALPHA);
      // On the original W, the converted adapter reproduces the trained PiSSA model (PEFT's own check).
      const y = await loraForward(x, W, lora, bias);
      return Math.max(
        relErr(lora.A, m("pissa.lora_A")),
        relErr(lora.B, m("pissa.lora_B")),
        relErr(y, m("pissa.y_trained")),
      );
    },
  },
  {
    name: "MoE top-2 routing weights and Switch/Mixtral aux loss",
    check: () => {
      const routing = routeTopK(m("moe.logits"), 2);
      const idx = T["moe.top_indices"].data as BigInt64Array;
      routing.indices.forEach((row, t) =>
        assert.deepEqual(Array.from(row), [Number(idx[2 * t]), Number(idx[2 * t + 1])])
      );
      const weights = Float32Array.from(routing.weights.flatMap((w) => Array.from(w)));
      return Math.max(
        relErr(routing.probs, m("moe.probs")),
        relErr(weights, v("moe.top_weights")),
        Math.abs(loadBalancingLoss(routing) - v("moe.aux_loss")[0]) / v("moe.aux_loss")[0],
      );
    },
  },
];

for (const c of cases) {
  Deno.test(`${c.name} matches PEFT within ${TOL} relative error`, async () => {
    const err = await c.check();
    assert.ok(err <= TOL, `${c.name}: relative error ${err.toExponential(2)} > ${TOL}`);
  });
}

Deno.test("NF4 quantization matches the reference codebook quantization exactly", () => {
  const q = nf4Quantize(v("nf4.input"), { blockSize: 64 });
  assert.deepEqual(Array.from(q.absmax), Array.from(v("nf4.absmax")));
  assert.deepEqual(Array.from(q.codes), Array.from(T["nf4.codes"].data as Uint8Array));
  assert.deepEqual(Array.from(nf4Dequantize(q)), Array.from(v("nf4.dequantized")));
});

Deno.test("loraTrainableParams() counts like PEFT on a Llama with grouped-query attention", async () => {
  const { loraTrainableParams } = await import("../lib/adapters/lora.ts");
  const config = JSON.parse(metadata.llama_config);
  const counts: Record<string, number> = JSON.parse(metadata.lora_trainable);
  assert.equal(Object.keys(counts).length, 2);
  for (const [targets, want] of Object.entries(counts)) {
    assert.equal(loraTrainableParams(config, { r: R, targetModules: targets.split(",") }), want, targets);
  }
});
