/**
 * The run config's independent axes reach PEFT as intended: one table of cases, run as two batches side
 * by side (two trainer processes, half the cases each; a run in a batch is itself checked against a run
 * on its own), each read back from the `start` event's PEFT config and the saved `adapter_config.json`
 * (PEFT's own file).
 */
import assert from "node:assert/strict";
import { projectRoot } from "../lib/env/paths.ts";
import { detectProfile } from "../lib/env/profile.ts";
import { readSafetensors } from "../lib/math/safetensors.ts";
import { loadRun } from "../lib/train/run_store.ts";
import { METHOD_PRESETS, METHODS, parseRunConfig, type RunConfigInput } from "../lib/train/run_config.ts";
import { type RunResult, trainRun, trainRuns } from "../lib/train/train_run.ts";
import { numbersRecipe } from "../lib/train/recipes.ts";
import { ALL_LINEAR_MODULES } from "../lib/train/model_shape.ts";
import { eventsOf, type TrainEvent } from "../lib/train/events.ts";

const ROOT = projectRoot();
const RUNS = Deno.makeTempDirSync({ prefix: "ince-axes-" });
const BASE: RunConfigInput = numbersRecipe({
  dataset: { eval: undefined },
  lora: { r: 4, alpha: 8 },
  train: {
    maxSteps: 4,
    batchSize: 8,
    lr: 2e-3,
    seed: 7,
    maxLength: 48,
    logEvery: 1,
    warmupSteps: 0,
    evalEvery: 0,
  },
});
const ALL_LINEAR = [...ALL_LINEAR_MODULES].sort();
/** The batch runs in two processes at once on one thread each (the machine has two cores). */
const ONE_THREAD = { OMP_NUM_THREADS: "1" };

const of = <K extends TrainEvent["event"]>(run: RunResult, k: K) => eventsOf(run.events, k);
const savedConfig = (run: RunResult) =>
  JSON.parse(Deno.readTextFileSync(`${run.end!.adapter}/adapter_config.json`));

Deno.test("presets expand into the axes; explicit axes override; labels read back", () => {
  const c = (extra: Partial<RunConfigInput>) => parseRunConfig({ ...BASE, ...extra } as RunConfigInput);
  for (const m of METHODS) {
    const p = c({ method: m });
    assert.deepEqual(
      { adapter: p.adapter, init: p.init, scaling: p.scaling, quant: p.quant },
      METHOD_PRESETS[m],
    );
    assert.equal(p.method, m);
  }
  assert.equal(c({}).method, "lora");
  assert.equal(c({ method: "qlora", adapter: "dora" }).method, "qdora");
  assert.equal(c({ init: "pissa", adapter: "dora", scaling: "rslora" }).method, "dora+pissa+rslora");
  assert.equal(c({ optimizer: { name: "loraplus" } }).method, "lora+loraplus");
  assert.equal(c({ fullFineTune: true }).method, "full");
  assert.equal(c({ peftType: "prefix_tuning" }).method, "prefix_tuning");
  // A parsed config (label + explicit axes) parses again to itself.
  const parsed = c({ adapter: "dora", scaling: "rslora" });
  assert.deepEqual(parseRunConfig(parsed as RunConfigInput), parsed);
  // Recorded runs of the old format (only `method`) load with their axes.
  for (
    const [name, adapter, init] of [["lora", "lora", "default"], ["dora", "dora", "default"], [
      "pissa",
      "lora",
      "pissa",
    ]]
  ) {
    const run = loadRun(`${ROOT}/data/runs/numbers-${name}`);
    assert.deepEqual([run.config.method, run.config.adapter, run.config.init], [name, adapter, init]);
  }
});

Deno.test("impossible combinations are refused before any process starts, naming the field and what to do", async () => {
  const cases: [Partial<RunConfigInput>, RegExp][] = [
    [
      { fullFineTune: true, init: "pissa" },
      /init: init "pissa" initialises an adapter; a full fine-tune has none/,
    ],
    [{ fullFineTune: true, method: "dora" }, /adapter: DoRA is an adapter/],
    [{ fullFineTune: true, optimizer: { name: "loraplus" } }, /optimizer\.name: LoRA\+ needs LoRA's A and B/],
    [
      { optimizer: { name: "loraplus", loraplusLrRatio: 0 } },
      /optimizer\.loraplusLrRatio: the LoRA\+ ratio must be > 0/,
    ],
    [
      { peftType: "ia3", adapter: "dora" },
      /adapter: DoRA applies to LoRA only; with peftType "ia3" leave it out/,
    ],
    [{ peftType: "prompt_tuning", method: "pissa" }, /init: init "pissa" applies to LoRA only/],
    [{ quant: "nf4", device: "cpu" }, /quant: NF4 \(bitsandbytes\) needs a CUDA or ROCm GPU/],
    [{ method: "lorax" as never }, /method: "lorax" is not one of lora, dora, pissa/],
    [
      { peftType: "prefix_tuning", train: { gradientCheckpointing: true } },
      /train\.gradientCheckpointing: prefix tuning/,
    ],
  ];
  for (const [extra, want] of cases) {
    const before = [...Deno.readDirSync(RUNS)].length;
    await assert.rejects(() => trainRun({ ...BASE, ...extra } as RunConfigInput, { runsDir: RUNS }), want);
    assert.equal([...Deno.readDirSync(RUNS)].length, before, "no run folder was made");
  }
  if (detectProfile() === "cpu") {
    await assert.rejects(
      () => trainRun({ ...BASE, method: "qlora" }, { runsDir: RUNS }),
      /quant: NF4 \(bitsandbytes\) needs a CUDA or ROCm GPU and none was found/,
    );
  }
});

/** name → [patch, check of the finished run] */
const CASES: Record<string, [Partial<RunConfigInput>, (run: RunResult) => void]> = {};
// The old method words must give the PEFT config the trainer built before the axes existed.
const OLD: Record<string, { use_dora: boolean; use_rslora: boolean; init_lora_weights: unknown }> = {
  lora: { use_dora: false, use_rslora: false, init_lora_weights: true },
  dora: { use_dora: true, use_rslora: false, init_lora_weights: true },
  pissa: { use_dora: false, use_rslora: false, init_lora_weights: "pissa_niter_4" },
  olora: { use_dora: false, use_rslora: false, init_lora_weights: "olora" },
  rslora: { use_dora: false, use_rslora: true, init_lora_weights: true },
};
for (const [method, want] of Object.entries(OLD)) {
  CASES[method] = [{ method: method as never }, (run) => {
    const peft = of(run, "start")[0].peftConfig!;
    assert.deepEqual(
      { ...want, r: 4, lora_alpha: 8, peft_type: "LORA", target_modules: ALL_LINEAR },
      {
        use_dora: peft.use_dora,
        use_rslora: peft.use_rslora,
        init_lora_weights: peft.init_lora_weights,
        r: peft.r,
        lora_alpha: peft.lora_alpha,
        peft_type: peft.peft_type,
        target_modules: [...(peft.target_modules as string[])].sort(),
      },
    );
    const saved = savedConfig(run);
    assert.equal(saved.use_dora, want.use_dora);
    assert.equal(saved.use_rslora, want.use_rslora);
    // PiSSA and OLoRA are saved converted to a plain LoRA of twice the rank.
    assert.equal(saved.r, method === "pissa" || method === "olora" ? 8 : 4);
  }];
}
CASES["dora+rslora"] = [{ adapter: "dora", scaling: "rslora" }, (run) => {
  const saved = savedConfig(run);
  assert.deepEqual([saved.use_dora, saved.use_rslora, saved.init_lora_weights], [true, true, true]);
}];
CASES["gaussian"] = [
  { init: "gaussian" },
  (run) => assert.equal(savedConfig(run).init_lora_weights, "gaussian"),
];
CASES["attention-only"] = [{ lora: { targetModules: ["q_proj", "v_proj"] } }, (run) => {
  assert.deepEqual([...savedConfig(run).target_modules].sort(), ["q_proj", "v_proj"]);
  const byModule = of(run, "start")[0].paramsByModule!;
  assert.equal(byModule.k_proj.trainable, 0);
  assert.ok(byModule.q_proj.trainable > 0);
}];
for (
  const [kind, type] of [["adalora", "ADALORA"], ["ia3", "IA3"], ["prompt_tuning", "PROMPT_TUNING"], [
    "p_tuning",
    "P_TUNING",
  ], ["prefix_tuning", "PREFIX_TUNING"]]
) {
  CASES[kind] = [{ peftType: kind as never }, (run) => {
    assert.equal(savedConfig(run).peft_type, type);
    assert.equal(of(run, "start")[0].peftConfig!.peft_type, type);
  }];
}
CASES["loraplus"] = [{ optimizer: { name: "loraplus", loraplusLrRatio: 16 } }, (run) => {
  const groups = run.end!.optimizerGroups!;
  const a = groups.filter((g) => g.loraA > 0), b = groups.filter((g) => g.loraB > 0);
  assert.ok(a.length && b.length, JSON.stringify(groups));
  assert.ok(a.every((g) => g.loraB === 0 && Math.abs(g.lr - 2e-3) < 1e-12), JSON.stringify(groups));
  assert.ok(b.every((g) => g.loraA === 0 && Math.abs(g.lr - 16 * 2e-3) < 1e-12), JSON.stringify(groups));
}];
CASES["plain adamw: one learning rate"] = [{}, (run) => {
  assert.ok(run.end!.optimizerGroups!.every((g) => Math.abs(g.lr - 2e-3) < 1e-12));
}];
CASES["full"] = [{ fullFineTune: true }, (run) => {
  const start = of(run, "start")[0];
  assert.equal(start.peftConfig, null);
  assert.equal(start.trainableParams, start.totalParams);
  assert.equal(run.end!.saved, "model");
}];

let batch: RunResult[] = [];
Deno.test("each axis and combination reaches PEFT (start event and saved adapter_config.json)", async (t) => {
  const names = Object.keys(CASES);
  // Two trainer processes side by side, one thread each, half the cases in each.
  const configs = names.map((n) => ({ ...BASE, ...CASES[n][0] }) as RunConfigInput);
  const half = Math.ceil(configs.length / 2);
  batch = (await Promise.all(
    [configs.slice(0, half), configs.slice(half)].map((part) =>
      trainRuns(part, { runsDir: RUNS, env: ONE_THREAD })
    ),
  )).flat();
  for (const [i, name] of names.entries()) {
    await t.step(name, () => {
      const run = batch[i];
      assert.ok(run.ok, run.error ? `${run.error.kind}: ${run.error.message}` : "no end event");
      const start = of(run, "start")[0];
      const counted = Object.values(start.paramsByModule!).reduce((a, m) => a + m.trainable, 0);
      assert.equal(counted, start.trainableParams, "per-module counts add up to PEFT's count");
      assert.ok(run.end!.secondsPerStep! > 0 && run.end!.peakRssBytes! > 0);
      CASES[name][1](run);
    });
  }
});

Deno.test("a full fine-tune changes every weight of the model", async () => {
  const run = batch[Object.keys(CASES).indexOf("full")];
  assert.ok(run?.ok, "the batch above ran the full fine-tune");
  const before = (await readSafetensors(`${ROOT}/data/models/ince-tiny/model.safetensors`)).tensors;
  const after = (await readSafetensors(`${run.end!.adapter}/model.safetensors`)).tensors;
  const unchanged = Object.keys(before).filter((k) => {
    const a = before[k].data as Float32Array, b = after[k]?.data as Float32Array | undefined;
    return !b || a.every((v, i) => v === b[i]);
  });
  assert.deepEqual(unchanged, [], "tensors the full fine-tune left unchanged");
});

Deno.test("a run in a batch gives the same loss curve as the same run alone", async () => {
  const alone = await trainRun({ ...BASE, ...CASES["gaussian"][0] } as RunConfigInput, {
    runsDir: RUNS,
    env: ONE_THREAD, // as in the batch: the same thread count, so the same sums in the same order
  });
  const inBatch = batch[Object.keys(CASES).indexOf("gaussian")];
  assert.ok(alone.ok && inBatch?.ok);
  assert.deepEqual(of(inBatch, "step").map((s) => s.loss), of(alone, "step").map((s) => s.loss));
});

Deno.test("the CPU allocator peak comes from PyTorch's MemTracker and a full fine-tune holds more optimizer state", () => {
  const lora = batch[Object.keys(CASES).indexOf("lora")], full = batch[Object.keys(CASES).indexOf("full")];
  assert.ok(lora?.ok && full?.ok);
  for (const run of [lora, full]) {
    assert.equal(run.end!.memorySource, "cpu-memtracker");
    const parts = run.end!.memoryBreakdown!;
    assert.equal(Object.values(parts).reduce((a, b) => a + b, 0), run.end!.peakAllocatedBytes);
  }
  // AdamW keeps two fp32 moments per trainable parameter: 8 bytes each.
  const opt = (r: RunResult) => r.end!.memoryBreakdown!.optimizer_state;
  const trainable = (r: RunResult) => of(r, "start")[0].trainableParams;
  for (const r of [lora, full]) {
    assert.ok(
      Math.abs(opt(r) - 8 * trainable(r)) / (8 * trainable(r)) < 0.01,
      `${opt(r)} vs 8 × ${trainable(r)}`,
    );
  }
});

const GPU = detectProfile() !== "cpu";
if (!GPU) console.log("skipped: QLoRA/QDoRA training (needs a CUDA or ROCm GPU; none found)");
Deno.test({
  name: "qlora and qdora train on a GPU (NF4 base, double quantization)",
  ignore: !GPU,
  fn: async () => {
    for (const method of ["qlora", "qdora"] as const) {
      const run = await trainRun({ ...BASE, method }, { runsDir: RUNS });
      assert.ok(run.ok, run.error?.message);
      assert.equal(savedConfig(run).use_dora, method === "qdora");
      assert.equal(run.end!.memorySource, "cuda");
    }
  },
});
