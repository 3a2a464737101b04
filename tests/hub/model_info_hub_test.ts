/** modelInfo() against the fake Hub: parameter counts and memory estimates from safetensors headers alone. */
import assert from "node:assert/strict";
import { startFakeHub } from "./fake_hub.ts";
import { enc, opts } from "./hub_fixtures.ts";

Deno.test("modelInfo() counts parameters from safetensors headers with range requests, downloading no weights", async () => {
  const { serializeSafetensors } = await import("../../lib/math/safetensors.ts");
  const { modelInfo } = await import("../../lib/hub/model_info.ts");
  const { estimateTrainingMemory } = await import("../../lib/train/memory_estimate.ts");
  const config = {
    hidden_size: 64,
    intermediate_size: 128,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    vocab_size: 100,
  };
  const shard = (n: number) =>
    serializeSafetensors({
      [`layers.${n}.w`]: { shape: [64, 128], data: new Float32Array(64 * 128) },
      [`layers.${n}.b`]: { shape: [3, 5, 7], data: new Float32Array(105) },
    });
  const files = {
    "model-00001-of-00002.safetensors": { data: shard(0) },
    "model-00002-of-00002.safetensors": { data: shard(1) },
  };
  const hub = startFakeHub([
    {
      type: "model",
      id: "ince/sharded",
      files: { ...files, "config.json": { data: enc(JSON.stringify(config)) } },
    },
    {
      type: "model",
      id: "ince/encoder",
      files: { ...files, "config.json": { data: enc('{"model_type":"bert"}') } },
    },
  ]);
  try {
    const o = { ...opts(Deno.makeTempDirSync(), hub.url), r: 8, batchSize: 2, seqLength: 16 };
    const info = await modelInfo("ince/sharded", o);
    assert.equal(info.params, 2 * (64 * 128 + 105));
    assert.deepEqual(info.paramsByDtype, { F32: 2 * (64 * 128 + 105) });
    assert.equal(info.memory.inference, info.params * 4);
    // r·(in+out) per linear layer: q,k,v,o (64→64), gate/up (64→128), down (128→64), 2 layers.
    assert.equal(info.loraParams, 2 * 8 * (4 * 128 + 3 * 192));
    // The training figures are the estimator's peaks (bf16 on a GPU) for the batch asked for.
    for (
      const [method, bytes] of [["lora", info.memory.loraTraining], [
        "qlora",
        info.memory.qloraTraining,
      ]] as const
    ) {
      const e = estimateTrainingMemory({ ...config }, {
        method,
        batchSize: 2,
        seqLength: 16,
        r: 8,
        dtype: "bfloat16",
        device: "cuda",
      });
      assert.equal(bytes, e.peakBytes, method);
    }
    assert.match(info.notes.join(" "), /LoRA r=8 on all linear layers .*batch 2 × 16 tokens/);
    const weightGets = hub.log.filter((r) => r.path.includes(".safetensors"));
    assert.ok(
      weightGets.length > 0 && weightGets.every((r) => r.range !== null),
      "every weight request is a range request",
    );

    // Not a Llama-style decoder: weights and optimizer state only, for an adapter of ~0.5 % of the model.
    const encoder = await modelInfo("ince/encoder", o);
    assert.equal(encoder.loraParams, Math.round(encoder.params * 0.005));
    assert.equal(encoder.memory.loraTraining, encoder.params * 2 + encoder.loraParams * 16);
    assert.ok(encoder.memory.qloraTraining < encoder.memory.loraTraining);
    assert.match(encoder.notes[0], /not Llama-shaped/);
  } finally {
    await hub.close();
  }
});
