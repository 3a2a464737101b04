/**
 * The one table between ince's run config and LLaMA-Factory's keys: every lesson-relevant choice survives the
 * round trip ince → LLaMA-Factory → ince, the schema refuses what LLaMA-Factory's parser refuses, and what has no
 * LLaMA-Factory key is refused with a sentence (not silently dropped).
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  llamaFactoryToRunConfig,
  parseLlamaFactoryConfig,
  RUN_CONFIG_MAPPING,
  runConfigDatasets,
  runConfigToLlamaFactory,
  toLlamaFactoryYaml,
} from "../lib/llamafactory/config.ts";
import { parseRunConfig, type RunConfigInput } from "../lib/train/run_config.ts";

const base: RunConfigInput = {
  model: "/models/ince-tiny",
  dataset: { train: "/d/numbers-train.jsonl", eval: "/d/numbers-eval.jsonl" },
  device: "cpu",
  dtype: "float32",
  train: {
    maxSteps: 40,
    lr: 1e-3,
    schedule: "linear",
    seed: 3,
    evalEvery: 20,
    saveEvery: 10,
    keepCheckpoints: 4,
  },
};
const CASES: Record<string, Partial<RunConfigInput>> = {
  lora: {},
  dora: { method: "dora" },
  pissa: { method: "pissa", lora: { pissaNiter: 2 } },
  rslora: { method: "rslora", lora: { r: 4, alpha: 8, dropout: 0, targetModules: ["q_proj", "v_proj"] } },
  loraplus: { optimizer: { name: "loraplus", loraplusLrRatio: 16 } },
  "dora+rslora": { adapter: "dora", scaling: "rslora" },
  qlora: { method: "qlora", device: "auto", dtype: "bfloat16" },
  full: { fullFineTune: true },
  dpo: { stage: "dpo", train: { ...base.train, dpoBeta: 0.2 } },
  epochs: { train: { maxSteps: 0, epochs: 2, gradAccum: 4, batchSize: 2, gradientCheckpointing: true } },
};
// The fields the table carries (everything else keeps ince's default and is listed in UNMAPPED_RUN_CONFIG_FIELDS).
const carried = (c: ReturnType<typeof parseRunConfig>) => ({
  model: c.model,
  dataset: c.dataset,
  method: c.method,
  stage: c.stage,
  fullFineTune: c.fullFineTune,
  axes: [c.adapter, c.init, c.scaling, c.quant, c.optimizer],
  lora: c.fullFineTune ? null : { ...c.lora, pissaNiter: c.init === "pissa" ? c.lora.pissaNiter : null },
  train: {
    ...c.train,
    saveMinutes: null,
    probeMemory: null,
    dpoBeta: c.stage === "dpo" ? c.train.dpoBeta : null,
  },
  device: c.device,
  dtype: c.dtype,
});

Deno.test("ince → LLaMA-Factory → ince keeps every mapped field, for each case of the table", () => {
  for (const [name, extra] of Object.entries(CASES)) {
    const rc = { ...base, ...extra } as RunConfigInput;
    const lf = runConfigToLlamaFactory(rc, {
      outputDir: "/runs/x/output",
      datasetDir: "/runs/x/llamafactory",
    });
    const back = llamaFactoryToRunConfig(parse(toLlamaFactoryYaml(lf)), runConfigDatasets(rc));
    assert.deepEqual(carried(back), carried(parseRunConfig(rc)), name);
  }
});

Deno.test("the mapping uses LLaMA-Factory's names for the lesson's switches", () => {
  const lf = (extra: Partial<RunConfigInput>) =>
    runConfigToLlamaFactory({ ...base, ...extra } as RunConfigInput, { outputDir: "/o", datasetDir: "/d" });
  assert.equal(lf(CASES.dora).use_dora, true);
  assert.deepEqual([lf(CASES.pissa).pissa_init, lf(CASES.pissa).pissa_iter], [true, 2]);
  assert.equal(lf(CASES.loraplus).loraplus_lr_ratio, 16);
  assert.equal(lf(CASES.qlora).quantization_bit, 4);
  assert.equal(lf(CASES.full).finetuning_type, "full");
  assert.equal(lf(CASES.full).lora_rank, undefined);
  assert.equal(lf(CASES.rslora).lora_target, "q_proj,v_proj");
  assert.equal(lf({}).lora_target, "all");
  // LLaMA-Factory checkpoints activations unless told not to; ince does not unless asked.
  assert.equal(lf({}).disable_gradient_checkpointing, true);
  assert.deepEqual([lf(CASES.dpo).pref_beta, lf(CASES.dpo).pref_loss], [0.2, "sigmoid"]);
  assert.deepEqual([lf({}).eval_dataset, lf({}).eval_steps, lf({}).eval_strategy], [
    "numbers_eval",
    20,
    "steps",
  ]);
  assert.ok(RUN_CONFIG_MAPPING.every((row) => row.ince && row.llamafactory));
});

Deno.test("what LLaMA-Factory has no key for is refused with a sentence, and the schema names bad keys", () => {
  const opts = { outputDir: "/o", datasetDir: "/d" };
  assert.throws(
    () => runConfigToLlamaFactory({ ...base, method: "olora" }, opts),
    /init "olora": LLaMA-Factory has no key/,
  );
  assert.throws(() => runConfigToLlamaFactory({ ...base, peftType: "ia3" }, opts), /peftType "ia3"/);
  const ok = {
    model_name_or_path: "m",
    dataset: "numbers",
    template: "chatml",
    output_dir: "o",
    learning_rate: 1e-3,
  };
  assert.throws(() => parseLlamaFactoryConfig(ok), /max_steps: set max_steps \(or num_train_epochs\)/);
  assert.throws(
    () => parseLlamaFactoryConfig({ ...ok, max_steps: 5, finetuning_type: "full", use_dora: true }),
    /use_dora: use_dora is only valid for LoRA training/,
  );
  assert.throws(
    () => parseLlamaFactoryConfig({ ...ok, max_steps: 5, batch_size: 4, lora_dropuot: 0.1 }, "x.yaml"),
    /x\.yaml: batch_size: .*did you mean per_device_train_batch_size\?; lora_dropuot: .*did you mean lora_dropout\?/,
  );
  assert.throws(
    () => llamaFactoryToRunConfig({ ...ok, max_steps: 5 }, { other: "/f.jsonl" }),
    /dataset: "numbers" is not among/,
  );
});
