/**
 * The GPU throughput bench: bench/gpu_train_bench.py --smoke (the CPU proof of the GPU bench: tiny shape, the
 * real trainer and plain TRL + PEFT side by side) prints its table, goals and skip lines, and writes run folders
 * that listRecordedGpuRuns reads back with backend, knobs, tokens/s, MFU and the baseline's tokens/s.
 */
import assert from "node:assert/strict";
import { assertRecordedRunFolder, runBenchSmoke } from "./_recorded_asserts.ts";
import { listRecordedGpuRuns } from "../lib/train/recorded_gpu_runs.ts";

const OUT = Deno.makeTempDirSync({ prefix: "ince-gpu-train-bench-" });

const smoke = () => runBenchSmoke("gpu_train_bench.py", OUT);

Deno.test("gpu_train_bench --smoke prints the table, the goals and one line per skipped method or backend", async () => {
  const printed = await smoke();
  assert.match(
    printed,
    /\| method \| backend \| knobs \| batch \| status \| tokens\/s \| MFU \| peak alloc GiB \| × plain \| DoRA\/LoRA time \| last loss \|/,
  );
  for (const m of ["lora", "dora", "pissa"]) {
    assert.match(printed, new RegExp(`\\| ${m} \\| plain TRL\\+PEFT \\| — \\| 2 \\| done \\| [0-9,]+ \\|`));
    assert.match(printed, new RegExp(`\\| ${m} \\| peft \\| — \\| 2 \\| done \\| [0-9,]+ \\|`));
    assert.match(printed, new RegExp(`\\| ${m} \\| peft-dropout0 \\| — \\| 2 \\| done \\| [0-9,]+ \\|`));
  }
  const skips = printed.split("\n").filter((l) => l.startsWith("[bench] skipped "));
  assert.equal(skips.length, 3, skips.join("\n"));
  assert.match(skips[0], /^\[bench\] skipped qlora, qdora: on a CPU: NF4 .*needs a CUDA GPU$/);
  assert.match(skips[1], /^\[bench\] skipped peft\+liger: on a CPU: Liger's kernels are Triton GPU kernels/);
  assert.match(skips[2], /^\[bench\] skipped unsloth: .*GPU.*backend "peft"/);
  // Every goal is printed, each with its verdict or n/a, and marked as not measured on a CPU.
  const goals = printed.split("\n").filter((l) => l.startsWith("goal: "));
  for (
    const goal of [
      /≥ 1\.5× plain TRL\+PEFT/,
      /≥ 25% MFU/,
      /DoRA ≤ 1\.4× LoRA's time per token \(peft\)/,
      /DoRA ≤ 1\.4× LoRA's time per token \(peft-dropout0\)/,
      /≥ 0\.97×/,
    ]
  ) {
    const line = goals.find((l) => goal.test(l));
    assert.ok(line, `${goal} in\n${goals.join("\n")}`);
    assert.match(line, /(PASS|FAIL|n\/a).*smoke run on a CPU/);
  }
});

Deno.test("listRecordedGpuRuns() reads the bench's runs: backend, knobs, tokens/s, MFU, baseline and ratio", () => {
  const rows = listRecordedGpuRuns({ dir: OUT });
  assert.deepEqual(rows.map((r) => `${r.method} ${r.backend}`), [
    "lora peft",
    "lora peft-dropout0",
    "dora peft",
    "dora peft-dropout0",
    "pissa peft",
    "pissa peft-dropout0",
  ]);
  for (const r of rows) {
    assert.equal(r.status, "done", r.error);
    assert.match(r.runDir, new RegExp(`/gpu-cpu-qwen2\\.5-0\\.5b-smoke-${r.method}-${r.backend}$`));
    const dropout = JSON.parse(Deno.readTextFileSync(`${r.runDir}/config.json`)).lora.dropout;
    assert.equal(dropout, r.backend === "peft-dropout0" ? 0 : 0.05);
    assert.deepEqual(r.knobs, {});
    assert.deepEqual([r.batchSize, r.seqLength, r.recorded.warmupSteps], [2, 64, 1]);
    assert.ok(r.tokensPerSecond! > 0 && r.baselineTokensPerSecond! > 0);
    assert.ok(Math.abs(r.ratioVsBaseline! - r.tokensPerSecond! / r.baselineTokensPerSecond!) < 1e-9);
    assert.equal(r.mfu, null); // no peak FLOP/s for a CPU; FLOPs per token are still computed
    const throughput = r.recorded.throughput as Record<string, number>;
    assert.ok(throughput.flopsPerToken > 0 && throughput.trainerTokensPerSecond > 0);
    assert.equal(throughput.paddingFraction, 0); // every row is cut to exactly seq tokens
    // Same rows, same settings, same seed: ince's trainer and plain TRL + PEFT train the same curve.
    const baseline = r.recorded.baseline as Record<string, number>;
    if (r.backend === "peft") { // the baseline runs the bench's default dropout, 0.05
      assert.ok(
        Math.abs(throughput.finalLoss - baseline.finalLoss) < 1e-4,
        `${throughput.finalLoss} ${baseline.finalLoss}`,
      );
    }
    for (const p of ["torch", "transformers", "peft", "trl", "liger_kernel", "unsloth"]) {
      assert.ok(p in r.versions, p);
    }
    const config = assertRecordedRunFolder(r.runDir) as {
      model: string;
      backend: string;
      train: { liger: boolean };
    };
    assert.equal(config.backend, "peft");
    assert.equal(config.train.liger, false);
    const end = Deno.readTextFileSync(`${r.runDir}/events.jsonl`).trim().split("\n").map((l) => JSON.parse(l))
      .find((e) => e.event === "end");
    assert.equal(end.engineArgs.use_liger_kernel, false);
  }
  const pissa = rows.find((r) => r.method === "pissa")!;
  assert.equal((pissa.recorded.model as { overrides: { hidden_size: number } }).overrides.hidden_size, 64);
});

Deno.test("listRecordedGpuRuns() reads a record without the throughput fields as before, and names the bench of a bad one", () => {
  const source = listRecordedGpuRuns({ dir: OUT }).find((r) => r.method === "lora");
  assert.ok(source, "run the smoke test first (same file)");
  const dir = Deno.makeTempDirSync();
  const copy = (name: string) => {
    Deno.mkdirSync(`${dir}/${name}`);
    for (const f of ["config.json", "events.jsonl", "recorded.json"]) {
      Deno.copyFileSync(`${source.runDir}/${f}`, `${dir}/${name}/${f}`);
    }
    return `${dir}/${name}`;
  };
  // A gpu_memory_bench record: no backend, knobs, throughput, baseline.
  const old = copy("gpu-test-shape-lora");
  const rec = JSON.parse(Deno.readTextFileSync(`${old}/recorded.json`));
  for (
    const k of [
      "bench",
      "backend",
      "engineBackend",
      "knobs",
      "warmupSteps",
      "throughput",
      "baseline",
      "ratioVsBaseline",
    ]
  ) {
    delete rec[k];
  }
  Deno.writeTextFileSync(`${old}/recorded.json`, JSON.stringify(rec));
  const [row] = listRecordedGpuRuns({ dir });
  assert.deepEqual([row.backend, row.knobs, row.mfu, row.baselineTokensPerSecond, row.ratioVsBaseline], [
    "peft",
    {},
    null,
    null,
    null,
  ]);
  assert.ok(row.tokensPerSecond! > 0 && row.wallSecondsPerStep! > 0); // from the step events, as before
  Deno.removeSync(old, { recursive: true });

  const bad = copy("gpu-test-shape-lora-peft-liger");
  Deno.writeTextFileSync(
    `${bad}/recorded.json`,
    JSON.stringify({ ...rec, throughput: { tokensPerSecond: "fast" } }),
  );
  assert.throws(() => listRecordedGpuRuns({ dir }), (e: Error) => {
    assert.match(
      e.message,
      /recorded\.json: field throughput\.tokensPerSecond: .*Re-record the run with bench\/gpu_train_bench\.py or delete/,
    );
    assert.ok(!e.message.includes("\n"));
    return true;
  });
  Deno.removeSync(dir, { recursive: true });
  Deno.removeSync(OUT, { recursive: true });
});
