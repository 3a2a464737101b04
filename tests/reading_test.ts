/**
 * Reading results: the overfitting verdict, the comparison reading, correlation, and the per-matrix
 * weight changes of an adapter (checked against a hand merge).
 */
import assert from "node:assert/strict";
import { overfittingVerdict } from "../lib/train/overfitting.ts";
import { type ComparisonRow, describeComparison } from "../lib/train/compare_runs.ts";
import { loadRun } from "../lib/train/run_store.ts";
import type { TrainEvent } from "../lib/train/events.ts";
import { correlation } from "../lib/math/stats.ts";
import { adapterWeightChanges } from "../lib/adapters/weight_changes.ts";
import { doraMerge, magnitudeDirectionChange } from "../lib/adapters/dora.ts";
import { loraMerge } from "../lib/adapters/lora.ts";
import { readSafetensors, writeSafetensors } from "../lib/math/safetensors.ts";
import { matrix, randn } from "../lib/math/matrix.ts";

const base = { protocol: 1 as const, time: 0 };
const step = (s: number, loss: number) =>
  ({ ...base, event: "step", step: s, loss, peakMemoryBytes: 0, elapsed: s, metrics: {} }) as TrainEvent;
const evalAt = (s: number, loss: number) =>
  ({ ...base, event: "eval", step: s, evalLoss: loss, metrics: {} }) as TrainEvent;

Deno.test("overfittingVerdict() names overfitting only when held-out loss rises while train loss falls", () => {
  const rising = [
    step(1, 6),
    evalAt(20, 0.87),
    step(40, 2),
    evalAt(40, 0.86),
    step(100, 0.4),
    evalAt(100, 0.95),
  ];
  const v = overfittingVerdict(rising);
  assert.equal(v.overfitting, true);
  assert.equal(v.bestStep, 40);
  assert.match(
    v.message,
    /^Overfitting: held-out loss was lowest at step 40 \(0\.860\) and rose 10% to 0\.950 by step 100/,
  );
  assert.equal(overfittingVerdict(loadRun("data/runs/numbers-lora").events).overfitting, false);
  // A 3% rise is within the default 5% tolerance; with 1% it counts.
  const small = [step(1, 5), evalAt(10, 1), step(20, 1), evalAt(20, 1.03)];
  assert.equal(overfittingVerdict(small).overfitting, false);
  assert.equal(overfittingVerdict(small, { tolerance: 0.01 }).overfitting, true);
  assert.throws(() => overfittingVerdict([step(1, 2)]), /0 eval events; train with train.evalEvery > 0/);
});

Deno.test("describeComparison() reads ties and differences from the numbers, against the baseline", () => {
  const row = (name: string, loss: number, sps = 0.2): ComparisonRow => ({
    name,
    method: name,
    seed: 0,
    ok: true,
    trainableParams: name === "dora" ? 103 : 100,
    secondsPerStep: sps,
    trainSecondsPerStep: sps / 2,
    peakMemoryBytes: 1e9,
    peakAllocatedBytes: null,
    peakRssBytes: null,
    initSeconds: 0,
    memoryBreakdown: null,
    finalTrainLoss: 2,
    finalEvalLoss: loss,
    exactMatch: 0.5,
    runDir: `runs/${name}`,
  });
  const tie = describeComparison([row("lora", 3), row("dora", 3.06, 0.25), row("pissa", 2.97)]);
  assert.equal(tie[0], "Lowest held-out loss: pissa (2.970); highest: dora (3.060).");
  assert.equal(
    tie[1],
    "dora vs lora: eval loss +2.0%, exact match 50% vs 50%, time per step +25.0%, trainable params +3.0%.",
  );
  assert.match(tie.at(-1)!, /within 3\.0% of each other: at this scale the methods tie/);
  const apart = describeComparison([row("lora", 3), row("pissa", 2.5)]);
  assert.match(apart.at(-1)!, /differ by up to 20\.0%/);
});

Deno.test("correlation() matches numpy's corrcoef on a known case", () => {
  // numpy.corrcoef([1,2,3,4,5],[2,1,4,3,5])[0,1] = 0.7999999999999999
  assert.ok(Math.abs(correlation([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.8) < 1e-12);
  assert.throws(() => correlation([1], [1]), /equal length ≥ 2/);
});

Deno.test("adapterWeightChanges() merges LoRA and DoRA adapters into the base weights like a hand merge", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "ince-changes-" });
  const model = "data/models/ince-tiny";
  const W =
    (await readSafetensors(`${model}/model.safetensors`)).tensors["model.layers.1.self_attn.v_proj.weight"];
  const Wm = matrix(W.shape[0], W.shape[1], W.data as Float32Array);
  const A = randn(4, Wm.cols, 1), B = randn(Wm.rows, 4, 2);
  const prefix = "base_model.model.model.layers.1.self_attn.v_proj";
  for (const dora of [false, true]) {
    const mag = new Float32Array(Wm.rows).map((_, i) => 1 + i / Wm.rows);
    await writeSafetensors(`${dir}/adapter_model.safetensors`, {
      [`${prefix}.lora_A.weight`]: { shape: [A.rows, A.cols], data: A.data },
      [`${prefix}.lora_B.weight`]: { shape: [B.rows, B.cols], data: B.data },
      ...(dora ? { [`${prefix}.lora_magnitude_vector`]: { shape: [Wm.rows], data: mag } } : {}),
    });
    Deno.writeTextFileSync(
      `${dir}/adapter_config.json`,
      JSON.stringify({ lora_alpha: 8, r: 4, use_dora: dora }),
    );
    const [change, ...rest] = await adapterWeightChanges(model, dir);
    assert.equal(rest.length, 0);
    assert.equal(change.layer, 1);
    assert.equal(change.module, "self_attn.v_proj");
    const lora = { A, B, alpha: 8 };
    const tuned = dora
      ? (await doraMerge(Wm, { ...lora, magnitude: mag })).merged
      : await loraMerge(Wm, lora);
    const expected = magnitudeDirectionChange(Wm, tuned);
    assert.ok(
      Math.abs(change.deltaM - expected.deltaM) < 1e-9 && Math.abs(change.deltaD - expected.deltaD) < 1e-9,
    );
    assert.ok(change.deltaD > 0);
  }
  Deno.removeSync(dir, { recursive: true });
});
