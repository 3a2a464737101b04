/**
 * The throughput settings and measurements of the trainer (issue #18), on this CPU:
 * - FLOPs per token: lib/train/mfu.ts = python/flops.py = PyTorch's FlopCounterMode for a full fine-tune;
 * - the knobs reach the engines: read back from TRL's own args object (`trainer_args.json`, `end.engineArgs`);
 * - padding-free and packed batches never mix rows: their step-1 loss equals the rows' losses computed alone,
 *   and differs from what mixed rows give;
 * - tokens/s, padded positions, FLOPs per token and MFU in the events agree with each other and with the TS formula;
 * - Liger and Unsloth refuse a CPU in one line.
 */
import assert from "node:assert/strict";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";
import { builtInModel, numbersRecipe } from "../lib/train/recipes.ts";
import { parseRunConfig, type RunConfigInput } from "../lib/train/run_config.ts";
import { type RunResult, trainRuns } from "../lib/train/train_run.ts";
import { eventsOf } from "../lib/train/events.ts";
import { flopsPerToken, gpuPeakTable, modelFlopsUtilization, peakFlops } from "../lib/train/mfu.ts";
import { readDecoderShape } from "../lib/train/model_shape.ts";
import { countTrainingFlops } from "../lib/train/flop_count.ts";
import { rowLosses } from "../lib/train/row_losses.ts";

const ROOT = projectRoot();
const MODEL = builtInModel();
const TMP = Deno.makeTempDirSync({ prefix: "ince-throughput-" });
const PEAK = 1e12; // INCE_PEAK_FLOPS for the runs: a CPU has no table entry

/** Two rows whose losses are computed alone below. */
const ROWS = [
  { instruction: "Write 7 in English words.", input: "", output: "seven" },
  { instruction: "Write 12 in Turkish words.", input: "", output: "on iki" },
];
const TWO = `${TMP}/two.jsonl`;
Deno.writeTextFileSync(TWO, ROWS.map((r, i) => JSON.stringify({ id: `r${i}`, ...r })).join("\n") + "\n");

const base = (train: RunConfigInput["train"], dataset = TWO): RunConfigInput =>
  numbersRecipe({
    dataset: { train: dataset },
    lora: { r: 8, alpha: 16 },
    train: {
      maxSteps: 1,
      batchSize: 2,
      lr: 1e-3,
      seed: 7,
      logEvery: 1,
      warmupSteps: 0,
      probeMemory: false,
      ...train,
    },
  });
const CASES: Record<string, RunConfigInput> = {
  padded: base({}),
  paddingFree: base({ paddingFree: true }),
  packing: base({ packing: true }),
  compile: base({ compile: true }),
  checkpointing: base({ gradientCheckpointing: true, autoBatchSize: true }),
  numbers: base({ maxSteps: 5, batchSize: 8 }, `${ROOT}/data/datasets/numbers-train.jsonl`),
  numbersPaddingFree: base(
    { maxSteps: 5, batchSize: 8, paddingFree: true },
    `${ROOT}/data/datasets/numbers-train.jsonl`,
  ),
  liger: base({ liger: true }),
  unsloth: { ...base({}), backend: "unsloth" },
};
const NAMES = Object.keys(CASES);
let _runs: Promise<Record<string, RunResult>> | undefined;
/** All cases in one trainer process, started by the first test that needs them. */
function runs(): Promise<Record<string, RunResult>> {
  // TORCHDYNAMO_DISABLE: torch.compile returns the model as it is, so the compile case checks that the setting
  // reaches TRL without 40 s of inductor compilation on this CPU (compiling for real gives the same losses here).
  const env = { INCE_PEAK_FLOPS: String(PEAK), TORCHDYNAMO_DISABLE: "1" };
  _runs ??= trainRuns(Object.values(CASES), { runsDir: `${TMP}/runs`, env })
    .then((rs) => Object.fromEntries(rs.map((r, i) => [NAMES[i], r])));
  return _runs;
}
const ok = (r: RunResult) => {
  assert.ok(
    r.ok,
    `${r.id}: ${r.error?.message ?? Deno.readTextFileSync(`${r.dir}/stderr.log`).slice(-1500)}`,
  );
  return r.end!;
};

Deno.test("FLOPs per token: the TS formula = the trainer's Python formula = FlopCounterMode of a full fine-tune", async () => {
  const shape = readDecoderShape(MODEL);
  for (const seq of [16, 48]) {
    const [full, lora] = await countTrainingFlops(MODEL, { seqLength: seq, batch: 2 });
    assert.equal(full.perToken, flopsPerToken(shape, seq).total, `seq ${seq}: counted vs 6N + attention`);
    // LoRA's hardware FLOPs: no weight gradient for the frozen base (≈ 4N/6N of the dense part, + the adapters).
    assert.ok(
      lora.perToken < 0.8 * full.perToken && lora.perToken > 0.6 * full.perToken,
      `LoRA ${lora.perToken}`,
    );
  }
  const script = `import json, sys; sys.path.insert(0, "${ROOT}/lib/train/python"); import flops
out = {}
for name, path in [("tiny", "${MODEL}/config.json"), ("qwen", "${ROOT}/data/models/shapes/qwen2.5-0.5b/config.json")]:
    out[name] = flops.flops_per_token(json.load(open(path)), 300.5)["total"]
out["peaks"] = [flops.peak_flops(n, "bfloat16")[0] for n in ["NVIDIA H100 80GB HBM3", "NVIDIA H100 PCIe", "NVIDIA A100-SXM4-80GB", "NVIDIA GeForce RTX 4090", "Nope"]]
out["arch"] = flops.peak_flops("AMD Radeon Graphics", "bfloat16", "gfx1103")[0]
print(json.dumps(out))`;
  const r = await new Deno.Command(pythonPath(), { args: ["-c", script], env: { INCE_PEAK_FLOPS: "" } })
    .output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  const py = JSON.parse(new TextDecoder().decode(r.stdout));
  assert.equal(py.tiny, flopsPerToken(readDecoderShape(MODEL), 300.5).total);
  assert.equal(
    py.qwen,
    flopsPerToken(readDecoderShape(`${ROOT}/data/models/shapes/qwen2.5-0.5b`), 300.5).total,
  );
  const names = [
    "NVIDIA H100 80GB HBM3",
    "NVIDIA H100 PCIe",
    "NVIDIA A100-SXM4-80GB",
    "NVIDIA GeForce RTX 4090",
    "Nope",
  ];
  assert.deepEqual(py.peaks, names.map((n) => peakFlops(n, "bfloat16")?.flops ?? null));
  assert.equal(py.arch, peakFlops("AMD Radeon Graphics", "bfloat16", "gfx1103")?.flops);
  assert.ok(gpuPeakTable().every((g) => g.source.length > 10 && (g.bfloat16 ?? g.float16 ?? 0) > 1e12));
});

Deno.test("the throughput settings reach TRL: read back from its args object", async () => {
  const rs = await runs();
  const args = (name: string) => {
    const end = ok(rs[name]);
    const file = JSON.parse(Deno.readTextFileSync(`${rs[name].dir}/trainer_args.json`));
    for (const [k, v] of Object.entries(end.engineArgs ?? {})) {
      if (k in file) assert.deepEqual(file[k], v, `${name}: ${k} in trainer_args.json vs end.engineArgs`);
    }
    return end.engineArgs as Record<string, unknown>;
  };
  const off = args("padded");
  assert.deepEqual(
    [
      off.use_liger_kernel,
      off.padding_free,
      off.packing,
      off.torch_compile,
      off.gradient_checkpointing,
      off.auto_find_batch_size,
    ],
    [false, false, false, false, false, false],
  );
  assert.equal(args("paddingFree").padding_free, true);
  assert.deepEqual([
    args("packing").packing,
    args("packing").packing_strategy,
    args("packing").padding_free_effective,
  ], [true, "bfd", true]);
  assert.equal(args("compile").torch_compile, true);
  assert.deepEqual(
    [args("checkpointing").gradient_checkpointing, args("checkpointing").auto_find_batch_size],
    [true, true],
  );
  assert.equal(ok(rs.checkpointing).batchSize, 2);
});

Deno.test("padding-free and packed batches keep rows apart: step 1's loss = the rows' losses computed alone", async () => {
  const ref = await rowLosses(
    MODEL,
    ROWS.map((r) => ({ messages: [{ role: "user", content: r.instruction }], answer: r.output })),
  );
  const mean = (parts: typeof ref.alone) =>
    parts.reduce((a, p) => a + p.lossSum, 0) / parts.reduce((a, p) => a + p.labelTokens, 0);
  const alone = mean(ref.alone), mixed = mean(ref.mixed);
  assert.ok(Math.abs(alone - mixed) > 0.05, `the check can fail: mixed rows give ${mixed} vs ${alone}`);
  const rs = await runs();
  for (const name of ["padded", "paddingFree", "packing"]) {
    ok(rs[name]);
    const [step1] = eventsOf(rs[name].events, "step");
    assert.ok(
      Math.abs(step1.loss - alone) < 1e-4,
      `${name}: step 1 loss ${step1.loss} vs alone ${alone} (mixed ${mixed})`,
    );
  }
  // Padding-free feeds no padding at all; the padded batch pads the shorter row.
  const pf = eventsOf(rs.paddingFree.events, "step")[0], pad = eventsOf(rs.padded.events, "step")[0];
  assert.equal(pf.paddedTokens, pf.tokens);
  assert.ok(
    pad.paddedTokens! > pad.tokens!,
    `padded: ${pad.paddedTokens} positions for ${pad.tokens} tokens`,
  );
});

Deno.test("tokens/s, padding, FLOPs per token and MFU in the events agree with each other and the TS formula", async () => {
  const rs = await runs();
  const shape = readDecoderShape(MODEL);
  for (const name of ["numbers", "numbersPaddingFree"]) {
    const end = ok(rs[name]);
    const steps = eventsOf(rs[name].events, "step");
    assert.equal(steps.length, 5);
    // Steps 2…5 are measured (step 1 is warm-up): the hook's tokens = TRL's own num_tokens over those steps.
    assert.equal(
      end.measuredTokens,
      steps[4].tokens! - steps[0].tokens!,
      `${name}: fed tokens vs TRL's num_tokens`,
    );
    assert.ok(end.measuredPositions! >= end.measuredTokens!);
    assert.ok(
      Math.abs(end.tokensPerSecond! - end.measuredTokens! / end.measuredSeconds!) / end.tokensPerSecond! <
        1e-3,
    );
    assert.ok(end.attentionSeqLength! > 10 && end.attentionSeqLength! <= 64, `S ${end.attentionSeqLength}`);
    assert.ok(Math.abs(end.flopsPerToken! - flopsPerToken(shape, end.attentionSeqLength!).total) < 1e-3);
    assert.equal(end.peakFlops, PEAK);
    assert.equal(end.peakFlopsSource, "INCE_PEAK_FLOPS");
    assert.equal(end.gpuName, null);
    const mfu = modelFlopsUtilization({
      tokensPerSecond: end.tokensPerSecond!,
      flopsPerToken: end.flopsPerToken!,
      peakFlops: PEAK,
    });
    assert.ok(Math.abs(end.mfu! - mfu) < 1e-12, `mfu ${end.mfu} vs ${mfu}`);
  }
  // The same rows in the same order: padding-free only removes padding, so the losses agree.
  const a = eventsOf(rs.numbers.events, "step"), b = eventsOf(rs.numbersPaddingFree.events, "step");
  a.forEach((s, i) =>
    assert.ok(Math.abs(s.loss - b[i].loss) < 1e-4, `step ${s.step}: ${s.loss} vs ${b[i].loss}`)
  );
  assert.ok(ok(rs.numbers).measuredPositions! > ok(rs.numbers).measuredTokens!);
  assert.equal(ok(rs.numbersPaddingFree).measuredPositions, ok(rs.numbersPaddingFree).measuredTokens);
});

Deno.test("Liger and Unsloth on a CPU: one line naming what is missing and the alternative", async () => {
  assert.throws(
    () => parseRunConfig({ ...CASES.liger, device: "cpu" }),
    /^Error: Invalid run config — train\.liger: .*GPU/,
  );
  assert.throws(
    () => parseRunConfig({ ...CASES.unsloth, device: "cpu" }),
    /backend: Unsloth runs on a CUDA or ROCm GPU only; on a CPU use backend "peft"/,
  );
  assert.throws(() => parseRunConfig({ ...base({ packing: true }), stage: "dpo" }), /train\.packing: .*DPO/);
  assert.throws(
    () => parseRunConfig({ ...base({ paddingFree: true }), stage: "dpo" }),
    /train\.paddingFree: .*DPO/,
  );
  const rs = await runs();
  for (
    const [name, want] of [["liger", /^field train\.liger: .*CPU/], [
      "unsloth",
      /^field backend: .*peft/,
    ]] as const
  ) {
    const r = rs[name];
    assert.equal(r.ok, false);
    assert.equal(r.error?.kind, "config");
    assert.match(r.error!.message, want);
    assert.ok(!r.error!.message.includes("\n"), `${name}: one line, got ${r.error!.message}`);
  }
});
