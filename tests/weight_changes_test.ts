/**
 * ΔM/ΔD of the query matrices over training (the DoRA paper's Figure 2): short LoRA, DoRA and full
 * fine-tune runs on the built-in model, each checkpoint measured by the TypeScript code and checked against
 * PEFT's own merge (`merge_and_unload`) and torch, with ΔM/ΔD and the trend computed in float64 numpy.
 */
import assert from "node:assert/strict";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";
import { numbersRecipe } from "../lib/train/recipes.ts";
import { type RunResult, trainRuns } from "../lib/train/train_run.ts";
import {
  runCheckpoints,
  type WeightChangePoint,
  weightChangesOverTraining,
  weightChangeTrend,
} from "../lib/adapters/weight_changes_over_training.ts";
import { adapterWeightChanges, modelWeightChanges } from "../lib/adapters/weight_changes.ts";

const MODEL = `${projectRoot()}/data/models/ince-tiny`;
const RUNS = Deno.makeTempDirSync({ prefix: "ince-weight-changes-" });
// 12 steps, a checkpoint every 3, keep 3: checkpoint-3 is saved, then deleted (the old fixed limit kept 2).
const TRAIN = { maxSteps: 12, saveEvery: 3, keepCheckpoints: 3, batchSize: 16, lr: 3e-3, probeMemory: false };
const METHODS = {
  lora: numbersRecipe({ method: "lora", train: TRAIN, dataset: { eval: undefined } }),
  dora: numbersRecipe({ method: "dora", train: TRAIN, dataset: { eval: undefined } }),
  full: numbersRecipe({ fullFineTune: true, train: { ...TRAIN, lr: 3e-4 }, dataset: { eval: undefined } }),
};
type Name = keyof typeof METHODS;

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => p ??= make();
}

const runs = once(async (): Promise<Record<Name, RunResult>> => {
  const names = Object.keys(METHODS) as Name[];
  const done = await trainRuns(names.map((n) => METHODS[n]), {
    runsDir: RUNS,
    env: { OMP_NUM_THREADS: "1" },
  });
  for (const r of done) {
    assert.ok(r.ok, r.error?.message ?? Deno.readTextFileSync(`${r.dir}/stderr.log`).slice(-2000));
  }
  return Object.fromEntries(names.map((n, i) => [n, done[i]])) as Record<Name, RunResult>;
});

// The reference: PEFT merges each adapter checkpoint into a fresh base (merge_and_unload); a full
// fine-tune's checkpoint is loaded by transformers. ΔM/ΔD per q_proj row in float64, and numpy's
// correlation and least-squares slope over all points of a run.
const PY_REFERENCE = `
import json, sys, os
import numpy as np, torch
from transformers import AutoModelForCausalLM
from peft import PeftModel
base_dir, jobs = sys.argv[1], json.loads(sys.stdin.read())
def q_weights(model):
    return [l.self_attn.q_proj.weight.detach().double().numpy() for l in model.model.layers]
W0 = q_weights(AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32))
out = {}
for run, dirs in jobs.items():
    points = []
    for d in dirs:
        if os.path.exists(os.path.join(d, "adapter_model.safetensors")):
            base = AutoModelForCausalLM.from_pretrained(base_dir, dtype=torch.float32)
            model = PeftModel.from_pretrained(base, d).merge_and_unload()
        else:
            model = AutoModelForCausalLM.from_pretrained(d, dtype=torch.float32)
        for layer, (w0, wt) in enumerate(zip(W0, q_weights(model))):
            n0, nt = np.linalg.norm(w0, axis=1), np.linalg.norm(wt, axis=1)
            dm = np.mean(np.abs(nt - n0))
            dd = np.mean(1 - (w0 * wt).sum(axis=1) / (n0 * nt))
            points.append({"dir": d, "layer": layer, "deltaM": dm, "deltaD": dd})
    x, y = [p["deltaD"] for p in points], [p["deltaM"] for p in points]
    out[run] = {"points": points, "correlation": float(np.corrcoef(x, y)[0, 1]), "slope": float(np.polyfit(x, y, 1)[0])}
print(json.dumps(out))
`;

interface Reference {
  points: { dir: string; layer: number; deltaM: number; deltaD: number }[];
  correlation: number;
  slope: number;
}

const reference = once(async (): Promise<Record<Name, Reference>> => {
  const jobs = Object.fromEntries(
    Object.entries(await runs()).map(([n, r]) => [n, runCheckpoints(r.dir).map((c) => c.dir)]),
  );
  const py = new Deno.Command(pythonPath(), {
    args: ["-c", PY_REFERENCE, MODEL],
    env: { OMP_NUM_THREADS: "1" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stdin = py.stdin.getWriter();
  await stdin.write(new TextEncoder().encode(JSON.stringify(jobs)));
  await stdin.close();
  const out = await py.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr).slice(-3000));
  return JSON.parse(new TextDecoder().decode(out.stdout));
});

const ours = once(async (): Promise<Record<Name, WeightChangePoint[]>> => {
  const r = await runs();
  const entries = await Promise.all(
    (Object.keys(r) as Name[]).map(async (n) =>
      [n, await weightChangesOverTraining(MODEL, r[n].dir)] as const
    ),
  );
  return Object.fromEntries(entries) as Record<Name, WeightChangePoint[]>;
});

// Float32 weights, norms and merges on our side, a float32 merge and float64 ΔM/ΔD on the reference's:
// measured agreement ≤ 2e-5 relative for merged adapters, ≤ 3e-4 for a full fine-tune's ΔD (a few 1e-6 at
// the first checkpoints: 1 − cosine of rows that barely moved, from float32 norms).
function close(a: number, b: number, what: string): void {
  assert.ok(Math.abs(a - b) <= 1e-3 * Math.abs(b) + 1e-9, `${what}: ours ${a}, reference ${b}`);
}

Deno.test("train.keepCheckpoints: 3 keeps the newest three checkpoints, an adapter in each for LoRA/DoRA, the whole model for a full fine-tune", async () => {
  for (const [name, run] of Object.entries(await runs())) {
    const kept = runCheckpoints(run.dir);
    assert.deepEqual(kept.map((c) => c.step), [6, 9, 12], name);
    for (const { dir } of kept) {
      const files = [...Deno.readDirSync(dir)].map((e) => e.name);
      const weights = name === "full" ? "model.safetensors" : "adapter_model.safetensors";
      assert.ok(files.includes(weights), `${name}: ${dir} holds ${files.join(", ")}`);
      if (name === "full") assert.ok(!files.includes("adapter_model.safetensors"));
    }
  }
});

for (const name of ["lora", "dora", "full"] as const) {
  Deno.test(
    `weightChangesOverTraining() gives ${name}'s q_proj ΔM/ΔD per (step, layer) as ${
      name === "full" ? "torch" : "PEFT's merge_and_unload"
    } does`,
    async () => {
      const [mine, ref, run] = [(await ours())[name], (await reference())[name], (await runs())[name]];
      assert.deepEqual(
        mine.map((p) => [p.step, p.layer, p.module]),
        [6, 9, 12].flatMap((s) => [0, 1, 2, 3, 4].map((l) => [s, l, "self_attn.q_proj"])),
      );
      const steps = new Map(runCheckpoints(run.dir).map((c) => [c.dir, c.step]));
      for (const [i, r] of ref.points.entries()) {
        assert.deepEqual([mine[i].step, mine[i].layer], [steps.get(r.dir), r.layer]);
        close(mine[i].deltaM, r.deltaM, `${name} step ${mine[i].step} layer ${r.layer} ΔM`);
        close(mine[i].deltaD, r.deltaD, `${name} step ${mine[i].step} layer ${r.layer} ΔD`);
      }
      assert.ok(mine.every((p) => p.deltaD > 0 && p.deltaM > 0), "every checkpoint changed every q_proj");
    },
  );
}

Deno.test("weightChangeTrend() equals numpy's corrcoef and polyfit slope over a run's points", async () => {
  for (const name of ["lora", "dora", "full"] as const) {
    const t = weightChangeTrend((await ours())[name]);
    const ref = (await reference())[name];
    assert.equal(t.points, 15);
    assert.ok(
      Math.abs(t.correlation - ref.correlation) < 1e-3,
      `${name}: ${t.correlation} vs ${ref.correlation}`,
    );
    close(t.slope, ref.slope, `${name} slope`);
  }
  assert.throws(() => weightChangeTrend([{ deltaM: 1, deltaD: 1 }]), /at least 2 points/);
});

Deno.test("the weight-change readers say what is wrong: no such module, no weights, a PiSSA checkpoint", async () => {
  const { lora, full } = await runs();
  const [first] = runCheckpoints(lora.dir);
  await assert.rejects(
    () => adapterWeightChanges(MODEL, first.dir, { module: "qq_proj" }),
    /no changed matrix named "qq_proj"/,
  );
  await assert.rejects(() => modelWeightChanges(MODEL, `${full.dir}/data`), /no model\.safetensors/);
  await assert.rejects(
    () => weightChangesOverTraining(MODEL, [`${lora.dir}/data`]),
    /cannot tell its training step/,
  );
  await assert.rejects(() => weightChangesOverTraining(MODEL, `${lora.dir}/data`), /saveEvery/);
  const pissa = Deno.makeTempDirSync({ dir: RUNS, prefix: "checkpoint-5-" });
  Deno.copyFileSync(`${first.dir}/adapter_model.safetensors`, `${pissa}/adapter_model.safetensors`);
  const config = JSON.parse(Deno.readTextFileSync(`${first.dir}/adapter_config.json`));
  Deno.writeTextFileSync(
    `${pissa}/adapter_config.json`,
    JSON.stringify({ ...config, init_lora_weights: "pissa_niter_4" }),
  );
  await assert.rejects(() => adapterWeightChanges(MODEL, pissa), /final adapter\//);
});

Deno.test("weight changes: clean up the runs", () => {
  Deno.removeSync(RUNS, { recursive: true });
});
