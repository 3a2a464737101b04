/**
 * LLaMA-Factory runs as ince runs, on the built-in model and this CPU: one 20-step LoRA SFT run and one DPO run
 * (stopped early on purpose) train side by side, one thread each; the checks read LLaMA-Factory's own files
 * independently of the converter. Then export (loaded by ince's own environment) and the web UI.
 */
import assert from "node:assert/strict";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";
import { writeDatasetInfo } from "../lib/llamafactory/dataset_info.ts";
import { exportLlamaFactory } from "../lib/llamafactory/export.ts";
import { llamaFactoryEvents, trainLlamaFactoryRun } from "../lib/llamafactory/train.ts";
import { startLlamaFactoryWebUi } from "../lib/llamafactory/webui.ts";
import { summarizeRun } from "../lib/train/compare_runs.ts";
import { eventsOf, type TrainEvent } from "../lib/train/events.ts";
import { listRuns, loadRun } from "../lib/train/run_store.ts";
import type { RunResult } from "../lib/train/train_run.ts";
import { runCommand } from "../lib/util/run_command.ts";
import { lossCurves } from "../lib/viz/loss_curves.ts";

const ROOT = projectRoot();
const TMP = Deno.makeTempDirSync({ prefix: "ince-lf-" });
const RUNS = `${TMP}/runs`;
const DATA = `${TMP}/data`;
const ENV = { OMP_NUM_THREADS: "1" };

writeDatasetInfo(DATA, {
  numbers_train: `${ROOT}/data/datasets/numbers-train.jsonl`,
  numbers_heldout: `${ROOT}/data/datasets/numbers-heldout.jsonl`,
  preferences: `${ROOT}/data/datasets/preferences.jsonl`,
});

const BASE = {
  model_name_or_path: `${ROOT}/data/models/ince-tiny`,
  dataset_dir: DATA,
  template: "chatml",
  finetuning_type: "lora",
  lora_rank: 8,
  lora_alpha: 16,
  lora_dropout: 0,
  lora_target: "all",
  cutoff_len: 128,
  logging_steps: 1,
  seed: 42,
  report_to: "none",
  use_cpu: true,
} as const;

const SFT = {
  ...BASE,
  dataset: "numbers_train",
  eval_dataset: "numbers_heldout",
  do_eval: true,
  eval_strategy: "steps",
  eval_steps: 10,
  per_device_train_batch_size: 8,
  per_device_eval_batch_size: 8,
  learning_rate: 1e-3,
  lr_scheduler_type: "linear",
  max_steps: 20,
  save_steps: 10,
  include_num_input_tokens_seen: true,
} as const;

const DPO = {
  ...BASE,
  stage: "dpo",
  dataset: "preferences",
  per_device_train_batch_size: 4,
  learning_rate: 5e-4,
  pref_beta: 0.1,
  pref_loss: "sigmoid",
  max_steps: 200,
  save_steps: 3,
} as const;

/** When each event arrived (ms), by run. */
const arrivals = { sft: [] as [TrainEvent, number][], dpo: [] as [TrainEvent, number][] };

let shared: Promise<{ sft: RunResult; dpo: RunResult }> | undefined;
/** The two runs, started together by the first test that needs them (one thread each on the 2-core CPU). */
function runs(): Promise<{ sft: RunResult; dpo: RunResult }> {
  shared ??= (async () => {
    const stop = new AbortController();
    const [sft, dpo] = await Promise.all([
      trainLlamaFactoryRun(SFT, {
        runsDir: RUNS,
        runId: "sft",
        env: ENV,
        onEvent: (e) => void arrivals.sft.push([e, performance.now()]),
      }),
      trainLlamaFactoryRun(DPO, {
        runsDir: RUNS,
        runId: "dpo",
        env: ENV,
        signal: stop.signal,
        onEvent: (e) => {
          arrivals.dpo.push([e, performance.now()]);
          if (e.event === "step" && e.step >= 4) stop.abort();
        },
      }),
    ]);
    return { sft, dpo };
  })();
  return shared;
}

function failure(run: RunResult): string {
  return `${run.error?.message ?? "no end event"}\n${
    Deno.readTextFileSync(`${run.dir}/stderr.log`).slice(-1500)
  }`;
}

const jsonLines = (file: string) =>
  Deno.readTextFileSync(file).trim().split("\n").map((l) =>
    JSON.parse(l) as Record<string, number | undefined>
  );

/** Parameter count of a safetensors file, from its header alone. */
function safetensorsParams(file: string): number {
  const bytes = Deno.readFileSync(file);
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<
    string,
    { shape?: number[] }
  >;
  return Object.entries(header).filter(([k]) => k !== "__metadata__")
    .reduce((s, [, t]) => s + t.shape!.reduce((a, b) => a * b, 1), 0);
}

Deno.test("startLlamaFactoryWebUi() answers HTTP 200 on a free local port and stops cleanly", async () => {
  // The training runs start now too: three single-threaded processes keep the 2 cores busier than one at a time.
  runs().catch(() => {}); // their tests report a failure
  const ui = await startLlamaFactoryWebUi({ cwd: `${TMP}/webui`, env: ENV });
  assert.match(ui.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  const page = await fetch(ui.url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /LLaMA Factory|LLaMA Board/);
  const status = await ui.stop();
  assert.equal(status.success, true, `exit ${status.code} ${status.signal}`);
  await assert.rejects(fetch(ui.url));
});

Deno.test("trainLlamaFactoryRun() turns trainer_log.jsonl into ince's events, which agree with LLaMA-Factory's final metrics", async () => {
  const { sft } = await runs();
  assert.ok(sft.ok, failure(sft));
  const log = jsonLines(`${sft.dir}/output/trainer_log.jsonl`);
  const results = JSON.parse(Deno.readTextFileSync(`${sft.dir}/output/all_results.json`));
  const steps = eventsOf(sft.events, "step");
  const trainRows = log.filter((r) => r.loss !== undefined);
  assert.deepEqual(steps.map((s) => s.step), trainRows.map((r) => r.current_steps));
  assert.deepEqual(steps.map((s) => s.step), Array.from({ length: 20 }, (_, i) => i + 1));
  assert.deepEqual(steps.map((s) => [s.loss, s.learningRate]), trainRows.map((r) => [r.loss, r.lr]));
  // LLaMA-Factory's train_loss is the mean of the logged step losses (logging_steps 1).
  const mean = steps.reduce((s, e) => s + e.loss, 0) / steps.length;
  assert.ok(Math.abs(mean - results.train_loss) < 1e-9, `mean ${mean} vs train_loss ${results.train_loss}`);
  assert.ok(steps[0].loss > steps.at(-1)!.loss + 1, "the loss falls");
  // From metrics.jsonl: the grad norm of every step (trainer_log.jsonl has none); tokens from LLaMA-Factory's count.
  assert.ok(steps.every((s) => typeof s.gradNorm === "number" && s.gradNorm > 0));
  assert.equal(steps.at(-1)!.tokens, results.num_input_tokens_seen);
  const evals = eventsOf(sft.events, "eval");
  assert.deepEqual(
    evals.map((e) => [e.step, e.evalLoss]),
    log.filter((r) => r.eval_loss !== undefined).map((r) => [r.current_steps, r.eval_loss]),
  );
  const [start] = eventsOf(sft.events, "start"), [end] = eventsOf(sft.events, "end");
  assert.equal(start.trainableParams, safetensorsParams(`${sft.dir}/output/adapter_model.safetensors`));
  assert.deepEqual([start.method, start.stage, start.trainExamples, start.evalExamples], [
    "lora",
    "sft",
    420,
    60,
  ]);
  assert.equal(start.versions.llamafactory, "0.9.5");
  assert.deepEqual(
    [end.steps, end.finalLoss, end.trainSeconds, end.saved, end.adapter],
    [20, steps.at(-1)!.loss, results.train_runtime, "adapter", `${sft.dir}/output`],
  );
  assert.ok(
    Math.abs(end.evalLoss! - evals.at(-1)!.evalLoss!) < 1e-6,
    "the final evaluation is the step-20 one",
  );
  assert.ok(end.secondsPerStep! > 0 && end.secondsPerStep! < end.trainSeconds / 10);
  // Live: the steps arrived while LLaMA-Factory was still running, not all at the end.
  const at = (kind: string) => arrivals.sft.filter(([e]) => e.event === kind).map(([, t]) => t);
  assert.ok(at("end")[0] - at("step")[0] > 1000, "first step event over a second before the end");
  assert.deepEqual(arrivals.sft.map(([e]) => e), sft.events);
  // Re-deriving the events from the folder gives the same (the live tail and the final read agree).
  assert.deepEqual(
    llamaFactoryEvents(`${sft.dir}/output`, {
      metricsFile: `${sft.dir}/llamafactory/metrics.jsonl`,
      runDir: sft.dir,
    })
      .map((e) => e.event === "end" ? { ...e, time: 0 } : e),
    sft.events.map((e) => e.event === "end" ? { ...e, time: 0 } : e),
  );
});

Deno.test("a LLaMA-Factory run folder is read by the run store, the comparison table and the loss chart unchanged", async () => {
  const { sft } = await runs();
  assert.ok(sft.ok, failure(sft));
  const stored = loadRun(sft.dir);
  assert.equal(stored.status, "done");
  assert.deepEqual(stored.events, sft.events);
  assert.deepEqual(
    [stored.config.method, stored.config.train.maxSteps, stored.config.lora.r, stored.config.dataset.train],
    ["lora", 20, 8, `${ROOT}/data/datasets/numbers-train.jsonl`],
  );
  assert.ok(listRuns(RUNS).some((r) => r.id === "sft"));
  const row = summarizeRun("llamafactory", { ...stored, ok: true });
  const steps = eventsOf(sft.events, "step");
  assert.equal(row.finalTrainLoss, steps.at(-1)!.loss);
  assert.equal(row.finalEvalLoss, eventsOf(sft.events, "eval").at(-1)!.evalLoss);
  assert.ok(row.trainableParams! > 0 && row.trainSecondsPerStep! > 0 && row.peakMemoryBytes! > 1e8);
  const figure = lossCurves({ llamafactory: stored });
  assert.deepEqual(figure.data.map((t) => [t.name, t.x!.length]), [["llamafactory", 20], [
    "llamafactory · eval",
    2,
  ]]);
});

Deno.test("an aborted LLaMA-Factory DPO run stops at a step end, keeps checkpoint and adapter, and logged its reward margins live", async () => {
  const { dpo } = await runs();
  assert.equal(dpo.error?.kind, "interrupted", failure(dpo));
  const steps = eventsOf(dpo.events, "step");
  const stopped = dpo.error!.step!;
  assert.ok(stopped >= 4 && stopped < 200, `stopped at step ${stopped}`);
  assert.equal(steps.at(-1)!.step, stopped);
  assert.equal(loadRun(dpo.dir).status, "interrupted");
  const out = [...Deno.readDirSync(`${dpo.dir}/output`)].map((e) => e.name);
  for (
    const f of ["adapter_model.safetensors", "checkpoint-3", `checkpoint-${stopped}`, "trainer_log.jsonl"]
  ) {
    assert.ok(out.includes(f), `${f} in ${out.join(" ")}`);
  }
  // Step 1 is computed before any update: policy = reference, so the DPO loss is ln 2 and the margin 0.
  assert.ok(Math.abs(steps[0].loss - Math.LN2) < 1e-6, `step 1 loss ${steps[0].loss}`);
  assert.ok(steps.every((s) => typeof s.metrics["rewards/margins"] === "number"));
  assert.equal(steps[0].metrics["rewards/margins"], 0);
  assert.ok(steps.slice(1).some((s) => s.metrics["rewards/margins"] !== 0));
  const margins = lossCurves({ dpo: dpo.events }, { metric: "rewards/margins" });
  assert.equal(margins.data[0].y!.length, steps.length);
});

Deno.test("exportLlamaFactory() merges the adapter into a model that ince's environment loads, logits equal to base + adapter", async () => {
  const { sft } = await runs();
  assert.ok(sft.ok, failure(sft));
  const merged = await exportLlamaFactory({
    model: BASE.model_name_or_path,
    adapter: `${sft.dir}/output`,
    exportDir: `${TMP}/merged`,
    env: ENV,
  });
  assert.ok(Deno.statSync(`${merged.dir}/model.safetensors`).isFile);
  const check = `
import json, sys, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from peft import PeftModel
base, adapter, merged = sys.argv[1:4]
tok = AutoTokenizer.from_pretrained(merged)
ids = tok.apply_chat_template([{"role": "user", "content": "What is two plus three?"}], add_generation_prompt=True, return_tensors="pt", return_dict=True)["input_ids"]
m = AutoModelForCausalLM.from_pretrained(merged, dtype=torch.float32).eval()
p = PeftModel.from_pretrained(AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32), adapter).eval()
with torch.no_grad():
    a, b = m(ids).logits, p(ids).logits
    with p.disable_adapter():
        c = p(ids).logits
print(json.dumps({"diff": (a - b).abs().max().item(), "moved": (a - c).abs().max().item()}))`;
  const out = JSON.parse(
    await runCommand(
      pythonPath(),
      ["-c", check, BASE.model_name_or_path, `${sft.dir}/output`, merged.dir],
      "Loading the merged model",
      {
        env: { ...ENV, HF_HUB_OFFLINE: "1" },
      },
    ),
  );
  assert.ok(out.diff <= 1e-4, `merged vs base + adapter: ${out.diff}`);
  assert.ok(out.moved > 1e-2, `the adapter changes the logits (${out.moved})`);
});
