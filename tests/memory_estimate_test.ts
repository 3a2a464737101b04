/**
 * The training-memory estimator against the real trainer's measured peak (PyTorch's MemTracker on a
 * CPU: every live tensor during one steady-state step), on the built-in model at several batch sizes
 * and sequence lengths, for LoRA, DoRA, a full fine-tune and gradient checkpointing. Tolerance 5 %
 * (the estimator's terms are counted from the engines' code, not fitted: measured agreement is 1–3 %).
 */
import assert from "node:assert/strict";
import { decoderParams, estimateTrainingMemory, readDecoderShape, trainBatch } from "../lib/train/mod.ts";
import type { MemoryMethod, RunConfigInput } from "../lib/train/mod.ts";
import { readSafetensorsHeader } from "../lib/math/safetensors.ts";
import { detectProfile } from "../lib/env/profile.ts";

const MODEL = "data/models/ince-tiny";
const TOLERANCE = 0.05;

Deno.test("decoderParams() counts the built-in model's parameters as its safetensors header does", async () => {
  const bytes = Deno.readFileSync(`${MODEL}/model.safetensors`);
  const header = await readSafetensorsHeader(
    (s, e) => Promise.resolve(bytes.subarray(s, e + 1)),
    "model.safetensors",
  );
  const stored = Object.values(header).reduce((s, t) => s + t.shape.reduce((a, b) => a * b, 1), 0);
  assert.equal(decoderParams(readDecoderShape(MODEL)).total, stored);
});

Deno.test("estimateTrainingMemory() is within 5 % of the trainer's measured peak at 7 settings", async () => {
  const cases: { method: MemoryMethod; b: number; s: number; gc?: boolean; dropout?: number }[] = [
    { method: "lora", b: 1, s: 64 },
    { method: "lora", b: 4, s: 64 },
    { method: "lora", b: 2, s: 192, dropout: 0 },
    { method: "lora", b: 8, s: 128, gc: true },
    { method: "dora", b: 4, s: 96 },
    { method: "full", b: 2, s: 128 },
    { method: "full", b: 1, s: 48 }, // small batch: AdamW's step nearly ties the forward pass
  ];
  const inputs: RunConfigInput[] = cases.map((c) => ({
    model: MODEL,
    dataset: { train: "data/datasets/counting.jsonl" }, // every answer is longer than 256 tokens: batches fill maxLength
    device: "cpu",
    eval: { exactMatch: false },
    ...(c.method === "full" ? { fullFineTune: true } : { method: c.method }),
    lora: { dropout: c.dropout ?? 0.05 },
    train: { maxSteps: 2, batchSize: c.b, maxLength: c.s, gradientCheckpointing: c.gc ?? false },
  }));
  const runsDir = await Deno.makeTempDir({ prefix: "ince-mem-" });
  const measured: number[] = [], optimizerState: number[] = [];
  for await (const { index, event } of trainBatch(inputs, { runsDir })) {
    if (event.event === "error") assert.fail(`run ${index}: ${event.message}`);
    if (event.event === "end") {
      assert.equal(event.memorySource, "cpu-memtracker");
      measured[index] = event.peakAllocatedBytes as number;
      optimizerState[index] = event.memoryBreakdown!.optimizer_state;
    }
  }
  const shape = readDecoderShape(MODEL);
  const report = cases.map((c, i) => {
    const e = estimateTrainingMemory(shape, {
      method: c.method,
      batchSize: c.b,
      seqLength: c.s,
      gradientCheckpointing: c.gc,
      dropout: c.dropout,
    });
    // AdamW's state is exact: two fp32 moments per trained value and a 4-byte step per trained tensor.
    assert.equal(e.terms.optimizerState, optimizerState[i], `${c.method}: optimizer state`);
    return { ...c, measured: measured[i], estimated: e.peakBytes, ratio: e.peakBytes / measured[i] };
  });
  for (const r of report) {
    assert.ok(
      Math.abs(r.ratio - 1) <= TOLERANCE,
      `${r.method} b${r.b}×s${r.s}${
        r.gc ? " gc" : ""
      }: estimated ${r.estimated} vs measured ${r.measured} (ratio ${r.ratio.toFixed(3)})`,
    );
  }
  // A check that can fail the other way: doubling the tokens must raise both numbers by a similar amount.
  assert.ok(measured[1] > 2 * measured[0] && report[1].estimated > 2 * report[0].estimated);
  await Deno.remove(runsDir, { recursive: true });
});

Deno.test("estimateTrainingMemory() shows NF4 storing linear weights in 3.9× less than bf16, and refuses bad inputs", () => {
  const shape = readDecoderShape("data/models/shapes/qwen2.5-7b");
  const base = { batchSize: 1, seqLength: 8, dtype: "bfloat16" as const };
  const lora = estimateTrainingMemory(shape, { ...base, method: "lora" });
  assert.equal(decoderParams(shape).total, 7_615_616_512); // Qwen2.5-7B's published count
  const qlora = estimateTrainingMemory(shape, { ...base, method: "qlora" });
  const { linear } = decoderParams(shape);
  assert.equal(lora.terms.weights, decoderParams(shape).total * 2);
  assert.ok(Math.abs((linear * 2) / (linear * 4.127 / 8) - 3.877) < 0.01);
  assert.ok(qlora.terms.weights < lora.terms.weights);
  assert.throws(
    () => estimateTrainingMemory(shape, { ...base, method: "lora", batchSize: 0 }),
    /whole numbers ≥ 1/,
  );
  assert.throws(
    () => estimateTrainingMemory(shape, { ...base, method: "lora", targetModules: ["qkv"] }),
    /unknown target "qkv"/,
  );
});

const GPU = detectProfile() !== "cpu";
if (!GPU) {
  console.log(
    "skipped: the memory estimate against a GPU's allocator for LoRA/QLoRA/DoRA/QDoRA (needs a CUDA or ROCm GPU; none found)",
  );
}
Deno.test({
  name:
    "estimateTrainingMemory() is within 15 % of torch.cuda.max_memory_allocated for lora, qlora, dora, qdora on a GPU",
  ignore: !GPU,
  fn: async () => {
    const methods: MemoryMethod[] = ["lora", "qlora", "dora", "qdora"];
    const inputs: RunConfigInput[] = methods.map((method) => ({
      model: MODEL,
      dataset: { train: "data/datasets/counting.jsonl" },
      device: "cuda",
      dtype: "bfloat16",
      eval: { exactMatch: false },
      method,
      train: { maxSteps: 3, batchSize: 8, maxLength: 128 },
    }));
    const runsDir = await Deno.makeTempDir({ prefix: "ince-mem-gpu-" });
    const shape = readDecoderShape(MODEL);
    for await (const { index, event } of trainBatch(inputs, { runsDir })) {
      if (event.event === "error") assert.fail(`${methods[index]}: ${event.message}`);
      if (event.event !== "end") continue;
      assert.equal(event.memorySource, "cuda");
      const e = estimateTrainingMemory(shape, {
        method: methods[index],
        batchSize: 8,
        seqLength: 128,
        dtype: "bfloat16",
        device: "cuda",
      });
      const ratio = e.peakBytes / (event.peakAllocatedBytes as number);
      assert.ok(
        Math.abs(ratio - 1) <= 0.15,
        `${methods[index]}: estimated ${e.peakBytes} vs ${event.peakAllocatedBytes}`,
      );
    }
    await Deno.remove(runsDir, { recursive: true });
  },
});
