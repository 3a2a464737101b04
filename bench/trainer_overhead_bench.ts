/**
 * The ince trainer (events, run store, probes) vs a plain TRL + PEFT script doing the same run, in
 * one bench run, on the built-in model. Ratio = our steps/s ÷ plain steps/s (goal ≥ 0.97).
 * Both measure Trainer's own train_runtime (the training loop, not process start-up).
 *
 *   deno run -A bench/trainer_overhead_bench.ts [steps=60] [rounds=2]
 */
import { projectRoot, pythonPath } from "../lib/env/paths.ts";
import { trainRun } from "../lib/train/train_run.ts";
import { numbersRecipe } from "../lib/train/recipes.ts";

const steps = Number(Deno.args[0] ?? 60), rounds = Number(Deno.args[1] ?? 2);
const ROOT = projectRoot();
const PROBE = Deno.env.get("INCE_BENCH_PROBE") === "1";
const model = `${ROOT}/data/models/ince-tiny`, data = `${ROOT}/data/datasets/numbers-train.jsonl`;
const tmp = Deno.makeTempDirSync({ prefix: "ince-bench-train-" });
const rows: { runner: string; seconds: number; stepsPerSecond: number }[] = [];
for (let r = 0; r < rounds; r++) {
  const run = await trainRun(
    numbersRecipe({
      dataset: { eval: undefined },
      lora: { r: 8, alpha: 16 },
      // The plain script has no CPU memory probe: compare the same work (the probe costs about one extra
      // step per run; run with INCE_BENCH_PROBE=1 to include it).
      train: {
        maxSteps: steps,
        batchSize: 8,
        lr: 2e-3,
        seed: 7,
        warmupSteps: 0,
        logEvery: 1,
        evalEvery: 0,
        probeMemory: PROBE,
      },
    }),
    { runsDir: tmp },
  );
  if (!run.ok) throw new Error(`ince run failed: ${run.error?.message}`);
  rows.push({
    runner: "ince trainer",
    seconds: run.end!.trainRuntime!,
    stepsPerSecond: steps / run.end!.trainRuntime!,
  });
  const out = await new Deno.Command(pythonPath(), {
    args: [`${ROOT}/bench/plain_sft.py`, model, data, String(steps), `${tmp}/plain`],
    stdout: "piped",
    stderr: "null",
  }).output();
  const plain = JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!);
  rows.push({
    runner: "plain TRL + PEFT",
    seconds: plain.train_runtime,
    stepsPerSecond: steps / plain.train_runtime,
  });
}
console.table(
  rows.map((r) => ({ ...r, seconds: +r.seconds.toFixed(2), stepsPerSecond: +r.stepsPerSecond.toFixed(2) })),
);
const best = (name: string) =>
  Math.max(...rows.filter((r) => r.runner === name).map((r) => r.stepsPerSecond));
console.log(
  `${steps} steps: ince/plain steps-per-second ratio = ${
    (best("ince trainer") / best("plain TRL + PEFT")).toFixed(3)
  } (goal ≥ 0.97; best of ${rounds} each; CPU memory probe ${PROBE ? "on" : "off"})`,
);
Deno.removeSync(tmp, { recursive: true });
