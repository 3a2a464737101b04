/**
 * LLaMA-Factory's environment, configs and datasets against LLaMA-Factory itself: its environment is made once
 * and found again from its marker; configs written by the schema pass its own parser, a bad key is named; the
 * course's original YAML is refused with the whole list; datasets registered from TypeScript load through its
 * pipeline with lib/data's row counts. One LLaMA-Factory process validates the whole table (its imports are
 * most of the cost).
 */
import assert from "node:assert/strict";
import { projectRoot } from "../lib/env/paths.ts";
import { loadDataset } from "../lib/data/load_dataset.ts";
import {
  runConfigDatasets,
  runConfigToLlamaFactory,
  toLlamaFactoryYaml,
} from "../lib/llamafactory/config.ts";
import { ensureLlamaFactory, llamaFactoryPython, lockedVersion } from "../lib/llamafactory/environment.ts";
import {
  assertValidLlamaFactoryConfig,
  type LlamaFactoryConfigSource,
  validateLlamaFactoryConfigs,
} from "../lib/llamafactory/validate.ts";
import { checkDatasets, writeDatasetInfo } from "../lib/llamafactory/dataset_info.ts";
import type { RunConfigInput } from "../lib/train/run_config.ts";

const ROOT = projectRoot();
const MODEL = `${ROOT}/data/models/ince-tiny`;
const DATA = `${ROOT}/data/datasets`;
const FIXTURES = `${ROOT}/tests/fixtures/llamafactory`;
// The course's original YAML lives with lesson 08, which shows what LLaMA-Factory says about it.
const COURSE_YAML = `${ROOT}/notebooks/08-llamafactory/course_sft.yaml`;
const tmp = Deno.makeTempDirSync({ prefix: "ince-lf-config-test-" });
const datasetDir = `${tmp}/data`; // `dataset_dir: data` (LLaMA-Factory's default) from cwd = tmp
const say = (line: string) => console.error(line);

const base: RunConfigInput = {
  model: MODEL,
  dataset: { train: `${DATA}/numbers-train.jsonl`, eval: `${DATA}/numbers-heldout.jsonl` },
  device: "cpu",
  dtype: "float32",
  train: { maxSteps: 20, lr: 1e-3, batchSize: 8, maxLength: 128, evalEvery: 10 },
};
/** The lesson's recipes, as ince run configs mapped by config.ts. */
const RECIPES: Record<string, RunConfigInput> = {
  lora: base,
  dora: { ...base, method: "dora" },
  pissa: { ...base, method: "pissa", lora: { pissaNiter: 2 } },
  rslora: { ...base, method: "rslora", lora: { r: 4, alpha: 8, targetModules: ["q_proj", "v_proj"] } },
  loraplus: { ...base, optimizer: { name: "loraplus", loraplusLrRatio: 16 } },
  full: { ...base, fullFineTune: true },
  dpo: {
    ...base,
    stage: "dpo",
    dataset: { train: `${DATA}/preferences.jsonl` },
    train: { ...base.train, dpoBeta: 0.1 },
  },
};
const lora = { ...runConfigToLlamaFactory(base, { outputDir: `${tmp}/out`, datasetDir }) } as Record<
  string,
  unknown
>;

writeDatasetInfo(datasetDir, {
  ...Object.assign({}, ...Object.values(RECIPES).map(runConfigDatasets)),
  identity_train: `${DATA}/identity-train.jsonl`,
  identity_bad: `${FIXTURES}/identity_bad.jsonl`,
});
Deno.mkdirSync(`${tmp}/trained`);
Deno.writeTextFileSync(`${tmp}/trained/adapter_model.safetensors`, "");
Deno.mkdirSync(`${tmp}/resumable/checkpoint-5`, { recursive: true });
Deno.writeTextFileSync(`${tmp}/resumable/checkpoint-5/trainer_state.json`, "{}");

/** Every config the table checks, validated in one LLaMA-Factory process (started by the first test needing it). */
const SOURCES: Record<string, LlamaFactoryConfigSource> = {
  ...Object.fromEntries(
    Object.entries(RECIPES).map(([name, rc]) => {
      const file = `${tmp}/${name}.yaml`;
      Deno.writeTextFileSync(
        file,
        toLlamaFactoryYaml(runConfigToLlamaFactory(rc, { outputDir: `${tmp}/out-${name}`, datasetDir })),
      );
      return [name, { yamlFile: file }];
    }),
  ),
  unknownKey: { ...lora, lora_r: 8 },
  crossField: { ...lora, finetuning_type: "full", use_dora: true },
  wrongType: { ...lora, lora_rank: "eight" },
  trainedOutput: { ...lora, output_dir: `${tmp}/trained` },
  resumableOutput: { ...lora, output_dir: `${tmp}/resumable` },
};
let _validated:
  | Promise<Record<string, Awaited<ReturnType<typeof validateLlamaFactoryConfigs>>[number]>>
  | undefined;
function validated() {
  _validated ??= validateLlamaFactoryConfigs(Object.values(SOURCES), { cwd: tmp, say }).then((results) =>
    Object.fromEntries(Object.keys(SOURCES).map((name, i) => [name, results[i]]))
  );
  return _validated;
}
const tree = (dir: string) => [...Deno.readDirSync(dir)].map((e) => e.name).sort();

Deno.test("ensureLlamaFactory() finds its environment again from the marker, with the lock's pins and the main torch", async () => {
  await ensureLlamaFactory({ say }); // creates it on a fresh machine (≈ 2 min), else finds it
  const t0 = performance.now();
  const { python, venv } = await ensureLlamaFactory({
    say: () => assert.fail("a second call must not create"),
  });
  const seconds = (performance.now() - t0) / 1000;
  assert.ok(seconds < 0.5, `second call took ${seconds} s`);
  const env = { ...Deno.env.toObject(), INCE_LLAMAFACTORY_PYTHON: "" };
  assert.equal(await llamaFactoryPython({ env }), python);
  const marker = JSON.parse(Deno.readTextFileSync(`${venv}/.ince-complete`));
  const lock = Deno.readTextFileSync(`${ROOT}/requirements/llamafactory.lock`);
  for (const name of ["llamafactory", "transformers", "peft", "trl", "datasets"]) {
    assert.equal(marker.versions[name], lockedVersion(lock, name), name);
  }
  const mainVenv = Deno.realPathSync(`${ROOT}/.tools/venv`);
  assert.equal(marker.mainVenv, mainVenv);
  assert.ok(marker.versions.torchFile.startsWith(`${mainVenv}/`), marker.versions.torchFile);
});

Deno.test("configs written by the schema (every recipe of the lesson) pass LLaMA-Factory's own parser", async () => {
  const results = await validated();
  for (const name of Object.keys(RECIPES)) assert.deepEqual(results[name], [], name);
});

Deno.test("a key LLaMA-Factory's parser rejects is named with the key meant; its own rules and types are named too", async () => {
  const results = await validated();
  assert.deepEqual(results.unknownKey, [{ key: "lora_r", message: "unknown key — did you mean lora_rank?" }]);
  assert.equal(results.crossField.length, 1);
  assert.equal(results.crossField[0].key, "use_dora");
  assert.match(results.crossField[0].message, /^LLaMA-Factory: `use_dora` is only valid for LoRA training/);
  assert.deepEqual(results.wrongType, [{ key: "lora_rank", message: "should be int, got 'eight'" }]);
});

Deno.test("validation never writes into the config's output_dir, and names one LLaMA-Factory would refuse", async () => {
  const before = [tree(`${tmp}/trained`), tree(`${tmp}/resumable`), tree(`${tmp}/resumable/checkpoint-5`)];
  const results = await validated();
  assert.deepEqual(results.resumableOutput, []);
  assert.equal(results.trainedOutput.length, 1);
  assert.equal(results.trainedOutput[0].key, "output_dir");
  assert.match(
    results.trainedOutput[0].message,
    /already holds a trained model; .*overwrite_output_dir: true/,
  );
  assert.deepEqual(
    [tree(`${tmp}/trained`), tree(`${tmp}/resumable`), tree(`${tmp}/resumable/checkpoint-5`)],
    before,
  );
  assert.equal(tree(`${tmp}`).some((n) => n.startsWith("out")), false);
});

Deno.test("the course's original YAML is refused with the full list, each problem with its key and line", async () => {
  const err = await assertValidLlamaFactoryConfig({ yamlFile: COURSE_YAML }, {
    cwd: tmp,
    say,
  })
    .then(() => undefined, (e: Error) => e);
  assert.ok(err, "the course's YAML must be refused");
  const [head, ...lines] = err.message.split("\n");
  assert.equal(head, `LLaMA-Factory would refuse ${COURSE_YAML} (7 problems):`);
  assert.deepEqual(lines.map((l) => l.match(/^(\w+) \(line (\d+)\): /)?.slice(1, 3).join(":")), [
    "learning_rate:17",
    "batch_size:14",
    "lora_r:8",
    "num_epochs:15",
    "model_name_or_path:4",
    "dataset:11",
    "template:12",
  ]);
  assert.match(lines[0], /duplicate key \(first on line 16\)/);
  assert.match(lines[1], /did you mean per_device_train_batch_size\?/);
  assert.match(lines[2], /did you mean lora_rank\?/);
  assert.match(lines[3], /did you mean num_train_epochs\?/);
  assert.match(
    lines[4],
    /'meta-llama\/Llama-3-8B-Instruct-fake' is neither a local model folder nor a model in the/,
  );
  assert.match(lines[5], /Undefined dataset course_numbers in dataset_info\.json/);
  assert.match(lines[6], /no template 'llama-3' — did you mean llama3\?/);
});

Deno.test("datasets registered from TypeScript load through LLaMA-Factory with lib/data's row counts", async () => {
  const files: Record<string, string> = {
    numbers_train: `${DATA}/numbers-train.jsonl`,
    identity_train: `${DATA}/identity-train.jsonl`,
    identity_bad: `${FIXTURES}/identity_bad.jsonl`,
    preferences: `${DATA}/preferences.jsonl`,
  };
  const common = { datasetDir, model: MODEL, template: "chatml", cutoffLen: 128, say };
  const rows = {
    ...await checkDatasets({
      ...common,
      datasets: ["numbers_train", "identity_train", "identity_bad"],
      stage: "sft",
    }),
    ...await checkDatasets({ ...common, datasets: ["preferences"], stage: "dpo" }),
  };
  const ince = Object.fromEntries(Object.entries(files).map(([n, f]) => [n, loadDataset(f).examples.length]));
  assert.deepEqual(ince, { numbers_train: 420, identity_train: 16, identity_bad: 3, preferences: 152 });
  // The course's files load whole; LLaMA-Factory drops a chat whose roles do not alternate (lib/data keeps it).
  assert.deepEqual(rows, { ...ince, identity_bad: 2 });
});

globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
