/**
 * The trainer on the built-in model, on this CPU: one table of methods through the same checks
 * (as PEFT's test_custom_models), then DPO, abort/resume, torchrun and bad input.
 */
import assert from "node:assert/strict";
import { projectRoot } from "../lib/env/paths.ts";
import { loadRun } from "../lib/train/run_store.ts";
import type { RunConfigInput } from "../lib/train/run_config.ts";
import { numbersRecipe } from "../lib/train/recipes.ts";
import { type RunResult, trainRun, trainRuns } from "../lib/train/train_run.ts";
import { eventsOf, type TrainEvent } from "../lib/train/events.ts";

const ROOT = projectRoot();
const RUNS = Deno.makeTempDirSync({ prefix: "ince-runs-" });
const BASE: RunConfigInput = numbersRecipe({
  lora: { r: 8, alpha: 16 },
  train: { maxSteps: 30, batchSize: 8, lr: 2e-3, evalEvery: 10, seed: 7, warmupSteps: 0, logEvery: 1 },
  eval: { maxExamples: 8 },
});

const of = <K extends TrainEvent["event"]>(run: RunResult, k: K) => eventsOf(run.events, k);

function failure(run: RunResult): string {
  return run.error
    ? `${run.error.kind}: ${run.error.message}`
    : Deno.readTextFileSync(`${run.dir}/stderr.log`).slice(-2000);
}

/** The abort-and-resume test's config: 20 steps, no eval. */
const SHORT: RunConfigInput = {
  ...BASE,
  dataset: { train: BASE.dataset.train },
  train: { ...BASE.train, maxSteps: 20, evalEvery: 0 },
};
const DPO: RunConfigInput = {
  ...BASE,
  stage: "dpo",
  dataset: { train: `${ROOT}/data/datasets/preferences.jsonl` },
  train: { maxSteps: 20, batchSize: 8, lr: 5e-3, seed: 7, maxLength: 64, dpoBeta: 0.1 },
};
/** The hard-kill test's cases: 12 steps, a checkpoint every 4. */
const sft12 = (method: string): RunConfigInput => ({
  ...BASE,
  method,
  dataset: { train: BASE.dataset.train },
  train: { ...BASE.train, maxSteps: 12, evalEvery: 0, saveEvery: 4, logEvery: 1 },
});
const HARD_KILL: Record<string, RunConfigInput> = {
  lora: sft12("lora"),
  dora: sft12("dora"),
  pissa: sft12("pissa"),
  dpo: {
    ...BASE,
    stage: "dpo",
    dataset: { train: `${ROOT}/data/datasets/preferences.jsonl` },
    train: { maxSteps: 12, batchSize: 8, lr: 5e-3, seed: 7, maxLength: 64, saveEvery: 4, logEvery: 1 },
  },
};

/**
 * Every uninterrupted run the tests read, trained as two batches side by side: two trainer processes,
 * one thread each (Python and PyTorch start once per batch; tests/peft_axes_test.ts checks that a run in
 * a batch gives the same loss curve as alone).
 */
const SHARED: Record<string, RunConfigInput>[] = [
  { lora: { ...BASE, method: "lora" }, dpo: DPO, short: SHORT, "hard-kill-reference-lora": HARD_KILL.lora },
  {
    dora: { ...BASE, method: "dora" },
    pissa: { ...BASE, method: "pissa" },
    ...Object.fromEntries(
      ["dora", "pissa", "dpo"].map((name) => [`hard-kill-reference-${name}`, HARD_KILL[name]]),
    ),
  },
];
let shared: Promise<Record<string, RunResult>> | undefined;

/** The shared batches' run called `name` (both batches start on the first call). */
async function sharedRun(name: string): Promise<RunResult> {
  shared ??= Promise.all(SHARED.map(async (batch) => {
    const names = Object.keys(batch);
    const runs = await trainRuns(Object.values(batch), {
      runsDir: RUNS,
      runIds: names.map((n) => `shared-${n}`),
      env: { OMP_NUM_THREADS: "1" },
    });
    return names.map((n, i) => [n, runs[i]] as const);
  })).then((parts) => Object.fromEntries(parts.flat()));
  const run = (await shared)[name];
  assert.ok(run, `no shared run called ${name}`);
  return run;
}

for (const method of ["lora", "dora", "pissa"] as const) {
  Deno.test(`${method}: a 30-step run finishes, starts as a no-op, and its eval loss falls`, async () => {
    const run = await sharedRun(method);
    assert.ok(run.ok, failure(run));
    const [start] = of(run, "start");
    assert.ok(
      Math.abs(start.initLoss! - start.baseLoss!) < 1e-4,
      `step-0 loss ${start.initLoss} vs base ${start.baseLoss}`,
    );
    assert.equal(of(run, "step").length, 30);
    const evals = of(run, "eval");
    assert.equal(evals.length, 3);
    assert.ok(
      evals[2].evalLoss! < evals[0].evalLoss!,
      `eval loss ${evals.map((e) => e.evalLoss).join(" → ")}`,
    );
    const adapter = JSON.parse(Deno.readTextFileSync(`${run.dir}/adapter/adapter_config.json`));
    // PiSSA is saved converted to a plain LoRA adapter of twice the rank.
    assert.equal(adapter.r, method === "pissa" ? 16 : 8);
    assert.equal(adapter.use_dora, method === "dora");
    // The run folder replays identically.
    assert.deepEqual(loadRun(run.dir).events, run.events);
  });
}

Deno.test("dpo: a run on the preference set finishes and its reward margin rises", async () => {
  const run = await sharedRun("dpo");
  assert.ok(run.ok, failure(run));
  const margins = of(run, "step").map((s) => s.metrics["rewards/margins"] ?? NaN);
  assert.equal(margins.length, 20);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(
    mean(margins.slice(-5)) > mean(margins.slice(0, 5)) + 0.05,
    `margins ${margins.map((m) => m.toFixed(3)).join(" ")}`,
  );
});

Deno.test("abort keeps events and a checkpoint; resuming reaches the uninterrupted run's final loss", async () => {
  const config = SHORT;
  const reference = await sharedRun("short");
  assert.ok(reference.ok, failure(reference));

  const controller = new AbortController();
  const first = await trainRun(config, {
    runsDir: RUNS,
    runId: "resumable",
    signal: controller.signal,
    onEvent: (e) => {
      if (e.event === "step" && e.step >= 8) controller.abort();
    },
  });
  assert.equal(first.error?.kind, "interrupted");
  const [checkpoint] = of(first, "checkpoint");
  assert.ok(checkpoint && Deno.statSync(checkpoint.path).isDirectory);
  assert.ok(loadRun(first.dir).events.some((e) => e.event === "error" && e.kind === "interrupted"));

  const resumed = await trainRun({ ...config, resume: true }, { runsDir: RUNS, runId: "resumable" });
  assert.ok(resumed.ok, failure(resumed));
  assert.equal(of(resumed, "step")[0].step, checkpoint.step + 1);
  assert.ok(
    Math.abs(resumed.end!.finalLoss! - reference.end!.finalLoss!) < 1e-3,
    `${resumed.end!.finalLoss} vs ${reference.end!.finalLoss}`,
  );
});

Deno.test("a hard kill (SIGKILL) loses only the steps since the last checkpoint: resuming reproduces the uninterrupted loss curve (LoRA, DoRA, PiSSA, DPO)", async () => {
  const cases = HARD_KILL, names = Object.keys(cases);
  const reference = await Promise.all(names.map((n) => sharedRun(`hard-kill-reference-${n}`))); // uninterrupted
  for (const [i, name] of names.entries()) assert.ok(reference[i].ok, `${name}: ${failure(reference[i])}`);
  // The four runs to kill, side by side (one thread each): each is killed by its own run folder.
  const killed = await Promise.all(names.map((name) => {
    const runId = `hard-kill-${name}`;
    return trainRun(cases[name], {
      runsDir: RUNS,
      runId,
      env: { OMP_NUM_THREADS: "1" },
      onEvent: async (e) => {
        if (e.event === "step" && e.step === 6) {
          const out = await new Deno.Command("pkill", { args: ["-9", "-f", `${RUNS}/${runId}/config.json`] })
            .output();
          assert.ok(out.success, `${name}: pkill found no trainer`);
        }
      },
    });
  }));
  const newest: number[] = [];
  for (const [i, name] of names.entries()) {
    assert.equal(killed[i].error?.kind, "runtime", `${name}: ${failure(killed[i])}`);
    assert.match(killed[i].error!.message, /killed by SIGKILL/);
    const saved = [...Deno.readDirSync(`${killed[i].dir}/checkpoints`)]
      .filter((d) => /^checkpoint-\d+$/.test(d.name)).map((d) => Number(d.name.split("-")[1]));
    assert.ok(saved.length >= 1 && saved.length <= 2, `${name}: checkpoints ${saved}`);
    newest.push(Math.max(...saved));
  }
  // The four resumes share one process, as a batch.
  const resumed = await trainRuns(names.map((n) => ({ ...cases[n], resume: true })), {
    runsDir: RUNS,
    runIds: names.map((n) => `hard-kill-${n}`),
  });
  for (const [i, name] of names.entries()) {
    assert.ok(resumed[i].ok, `${name}: ${failure(resumed[i])}`);
    const steps = of(resumed[i], "step");
    assert.equal(steps[0].step, newest[i] + 1, `${name}: resumed from the newest checkpoint`);
    const want = new Map(of(reference[i], "step").map((s) => [s.step, s.loss]));
    for (const s of steps) {
      assert.ok(
        Math.abs(s.loss - want.get(s.step)!) < 1e-3,
        `${name} step ${s.step}: ${s.loss} vs ${want.get(s.step)}`,
      );
    }
    assert.equal(steps.at(-1)!.step, 12);
    assert.equal(
      loadRun(resumed[i].dir).status,
      "done",
      `${name}: the events file ends with the resumed run's end`,
    );
  }
});

Deno.test("torchrun with 2 CPU processes (gloo) completes and logs once per step", async () => {
  const run = await trainRun({
    ...BASE,
    dataset: { train: BASE.dataset.train },
    train: { ...BASE.train, maxSteps: 6, evalEvery: 0 },
    launcher: { kind: "torchrun", nproc: 2 },
  }, { runsDir: RUNS, env: { OMP_NUM_THREADS: "1" } });
  assert.ok(run.ok, failure(run));
  assert.equal(of(run, "start")[0].worldSize, 2);
  assert.deepEqual(of(run, "step").map((s) => s.step), [1, 2, 3, 4, 5, 6]);
});

Deno.test("bad input is refused with a message naming the field, line or file, and the run folder keeps everything", async (t) => {
  const dir = Deno.makeTempDirSync();
  const lines = Deno.readTextFileSync(BASE.dataset.train).split("\n");
  Deno.writeTextFileSync(`${dir}/not-json.jsonl`, [lines[0], "{oops", lines[2]].join("\n"));
  Deno.writeTextFileSync(
    `${dir}/missing.jsonl`,
    [lines[0], JSON.stringify({ instruction: "Write 3." })].join("\n"),
  );
  const zodCases: { name: string; config: unknown; want: RegExp }[] = [
    {
      name: "unknown method",
      config: { ...BASE, method: "lorax" },
      want: /method: "lorax" is not one of lora, dora/,
    },
    {
      name: "qlora on a CPU",
      config: { ...BASE, method: "qlora", device: "cpu" },
      want: /quant: NF4 .*needs a CUDA or ROCm GPU/,
    },
    { name: "rank 0", config: { ...BASE, lora: { r: 0 } }, want: /lora\.r: rank must be at least 1/ },
    {
      name: "negative lr",
      config: { ...BASE, train: { lr: -1 } },
      want: /train\.lr: learning rate must be > 0/,
    },
    // Datasets are validated by lib/data before the trainer starts (the trainer reads only canonical rows).
    {
      name: "dataset line not JSON",
      config: { ...BASE, dataset: { train: `${dir}/not-json.jsonl` } },
      want: /not-json\.jsonl:2: not valid JSON/,
    },
    {
      name: "record missing a field",
      config: { ...BASE, dataset: { train: `${dir}/missing.jsonl` } },
      want: /missing\.jsonl:2: field "output" is missing/,
    },
    {
      name: "chat rows for DPO",
      config: { ...BASE, stage: "dpo" },
      want: /numbers-train\.jsonl: alpaca rows cannot train stage "dpo"/,
    },
  ];
  for (const c of zodCases) {
    await t.step(c.name, async () => {
      await assert.rejects(() => trainRun(c.config as RunConfigInput, { runsDir: RUNS }), c.want);
    });
  }
  const trainerCases: { name: string; config: RunConfigInput; kind: string; want: RegExp }[] = [
    {
      name: "maxLength shorter than every prompt",
      config: { ...BASE, train: { ...BASE.train, maxLength: 8 } },
      kind: "config",
      want:
        /field train\.maxLength: 8 tokens leave no room for any answer \(the shortest prompt of .* is \d+ tokens\); raise it/,
    },
    {
      name: "model path that does not exist",
      config: { ...BASE, model: `${dir}/no-model` },
      kind: "config",
      want: /field model: .*no-model does not exist/,
    },
  ];
  for (const c of trainerCases) {
    await t.step(c.name, async () => {
      const run = await trainRun(c.config, { runsDir: RUNS });
      assert.equal(run.ok, false);
      assert.equal(run.error?.kind, c.kind);
      assert.match(run.error!.message, c.want);
      for (const f of ["config.json", "events.jsonl", "stderr.log"]) {
        assert.ok(Deno.statSync(`${run.dir}/${f}`).isFile, f);
      }
    });
  }
  await t.step("a killed trainer", async () => {
    const run = await trainRun({ ...BASE, train: { ...BASE.train, maxSteps: 200 } }, {
      runsDir: RUNS,
      onEvent: async (e) => {
        if (e.event === "step" && e.step === 2) {
          // Kill the trainer as an out-of-memory killer would: find it by its run folder.
          const out = await new Deno.Command("pkill", {
            args: ["-9", "-f", `${RUNS}/.*/config.json`],
          }).output();
          assert.ok(out.success);
        }
      },
    });
    assert.equal(run.error?.kind, "runtime");
    assert.match(run.error!.message, /The trainer was killed by SIGKILL before finishing/);
    const kept = loadRun(run.dir);
    assert.ok(
      kept.events.filter((e) => e.event === "step").length >= 2,
      "the steps before the kill are kept",
    );
    assert.equal(kept.status, "failed");
  });
});

Deno.test("same seed and config give the same loss curve on the CPU", async () => {
  const config: RunConfigInput = {
    ...BASE,
    dataset: { train: BASE.dataset.train },
    train: { ...BASE.train, maxSteps: 10, evalEvery: 0 },
  };
  const [a, b] = [await trainRun(config, { runsDir: RUNS }), await trainRun(config, { runsDir: RUNS })];
  assert.ok(a.ok && b.ok);
  assert.deepEqual(of(a, "step").map((s) => s.loss), of(b, "step").map((s) => s.loss));
});
