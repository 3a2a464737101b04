/**
 * Reading results: the overfitting verdict, the comparison reading, correlation, and the per-matrix
 * weight changes of an adapter (checked against a hand merge).
 */
import assert from "node:assert/strict";
import { overfittingVerdict } from "../lib/train/overfitting.ts";
import type { ComparisonRow } from "../lib/train/compare_runs.ts";
import { describeComparison } from "../lib/train/seed_summary.ts";
import type { ConfigPatch } from "../lib/train/recipes.ts";
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

Deno.test("describeComparison() states one seed's numbers without a verdict, and reads several seeds against their spread", () => {
  const row = (
    name: string,
    loss: number,
    o: { sps?: number; seed?: number; em?: number } = {},
  ): ComparisonRow => ({
    name,
    method: name,
    seed: o.seed ?? 0,
    ok: true,
    trainableParams: name === "dora" ? 103 : 100,
    secondsPerStep: 0.4,
    trainSecondsPerStep: o.sps ?? 0.2,
    evalSeconds: 3,
    peakMemoryBytes: 1e9,
    peakAllocatedBytes: null,
    peakRssBytes: null,
    initSeconds: 0,
    memoryBreakdown: null,
    finalTrainLoss: 2,
    finalEvalLoss: loss,
    exactMatch: o.em ?? 0.5,
    exactMatchExamples: 60,
    runDir: `runs/${name}`,
  });
  const one = describeComparison([
    row("lora", 3),
    row("dora", 3.06, { sps: 0.25 }),
    row("pissa", 2.5, { em: 0.9 }),
  ]);
  assert.equal(one[0], "Lowest held-out loss: pissa (2.500); highest: dora (3.060).");
  assert.equal(
    one[1],
    "dora vs lora: held-out loss +2.0%, exact match 50% [38–62%] vs 50% [38–62%] (the 95% intervals overlap: " +
      "no difference shown), time per training step +25.0%, trainable params +3.0%.",
  );
  assert.match(one[2], /exact match 90% \[80–95%\] vs 50% \[38–62%\] \(the 95% intervals do not overlap\)/);
  // A 17% lower loss from one seed is still not called real: the spread is unknown.
  assert.match(one.at(-1)!, /^One seed per method: .* no difference above can be called real, nor a tie/);
  assert.ok(!one.join(" ").match(/methods tie|a real difference/));
  // Three seeds: the same 17% gap, far outside a spread of ±0.01, is real; a 0.005 gap is not.
  const seeds = [0, 1, 2].flatMap((s) => [
    row("lora", 3 + s / 100, { seed: s }),
    row("pissa", 2.5 + s / 100, { seed: s }),
    row("dora", 3.005 + s / 100, { seed: s }),
  ]);
  const read = describeComparison(seeds).join("\n");
  assert.match(read, /^Rule: a difference in held-out loss counts only when/);
  assert.match(read, /pissa vs lora: .* lower, by more than the seed-to-seed spread/);
  assert.match(read, /dora vs lora: .* within the seed-to-seed spread \(no difference shown\)/);
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

Deno.test("real runs: identical settings under 3 seeds read as no difference; a planted large difference reads as real", async () => {
  const { compareRuns } = await import("../lib/train/compare_runs.ts");
  const { numbersRecipe } = await import("../lib/train/recipes.ts");
  const base = numbersRecipe({
    train: {
      maxSteps: 16,
      batchSize: 8,
      lr: 3e-3,
      warmupSteps: 2,
      evalEvery: 16,
      logEvery: 4,
      probeMemory: false,
    },
    eval: { exactMatch: false },
  });
  // "same" is the baseline's config under another name; "slow" learns 300× slower (the planted difference).
  // Two trainer processes side by side (one thread each), the rows in the order of one call.
  const groups: Record<string, ConfigPatch>[] = [{ lora: {}, same: {} }, { slow: { train: { lr: 1e-5 } } }];
  const rows = (await Promise.all(
    groups.map((variants) =>
      compareRuns(base, variants, { seeds: [0, 1, 2], env: { OMP_NUM_THREADS: "1" } })
    ),
  )).flat();
  assert.ok(rows.every((r) => r.ok), rows.filter((r) => !r.ok).map((r) => r.runDir).join(", "));
  // The seeds really differ: otherwise there would be no spread to read against.
  const lora = rows.filter((r) => r.name === "lora").map((r) => r.finalEvalLoss!);
  assert.equal(new Set(lora).size, 3, `three seeds, three losses: ${lora}`);
  const read = describeComparison(rows).join("\n");
  assert.match(read, /same vs lora: .* within the seed-to-seed spread \(no difference shown\)/);
  assert.match(read, /slow vs lora: .* higher, by more than the seed-to-seed spread/);
});
