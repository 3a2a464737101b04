/**
 * Recorded GPU runs: bench/gpu_memory_bench.py --smoke (the CPU proof of the GPU bench, through the real
 * trainer) writes run folders that listRecordedGpuRuns reads back; malformed folders fail in one line.
 */
import assert from "node:assert/strict";
import { assertRecordedRunFolder, runBenchSmoke } from "./_recorded_asserts.ts";
import { listRecordedGpuRuns } from "../lib/train/recorded_gpu_runs.ts";

const OUT = Deno.makeTempDirSync({ prefix: "ince-gpu-runs-" });

const smoke = () => runBenchSmoke("gpu_memory_bench.py", OUT);

function copyRun(from: string, to: string): void {
  Deno.mkdirSync(to, { recursive: true });
  for (const f of ["config.json", "events.jsonl", "recorded.json"]) {
    Deno.copyFileSync(`${from}/${f}`, `${to}/${f}`);
  }
}

Deno.test("the bench's --smoke run is read back by listRecordedGpuRuns(), one row per method", async () => {
  const printed = await smoke();
  assert.match(printed, /\| method \| status \| peak alloc GiB \|/);
  const rows = listRecordedGpuRuns({ dir: OUT });
  assert.deepEqual(rows.map((r) => r.method), ["lora", "dora", "full"]);
  for (const r of rows) {
    assert.equal(r.status, "done", r.error);
    assert.equal(r.gpu, "cpu (smoke test, not a GPU)");
    assert.equal(r.recorded.smoke, true);
    assert.equal(r.shape, "qwen2.5-0.5b-smoke");
    assert.deepEqual([r.batchSize, r.seqLength], [2, 64]);
    assert.match(r.runDir, new RegExp(`/gpu-cpu-qwen2\\.5-0\\.5b-smoke-${r.method}$`));
    // On a CPU the trainer measures the allocator peak with MemTracker; on a GPU it is max_memory_allocated.
    assert.ok(r.peakAllocatedBytes! > 0 && r.secondsPerStep! > 0 && r.wallSecondsPerStep! > 0);
    // Every step is exactly batch × seq tokens (the synthetic rows are longer than seq and truncated).
    assert.ok(r.tokensPerSecond! > 0);
    const events = Deno.readTextFileSync(`${r.runDir}/events.jsonl`).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(events.filter((e) => e.event === "step").map((e) => e.tokens), [128, 256, 384]);
    assert.ok(r.versions.torch && r.versions.transformers && r.versions.peft);
    assert.ok(!Number.isNaN(Date.parse(r.date)));
    const config = assertRecordedRunFolder(r.runDir) as {
      model: string;
      backend: string;
      train: { liger: boolean };
    };
    assert.equal(config.model, "data/models/shapes/qwen2.5-0.5b");
  }
  assert.equal(rows.find((r) => r.method === "full")!.trainableParams, 205_376);
});

Deno.test("listRecordedGpuRuns() returns [] where there are none, and names the file and field of a bad one", () => {
  assert.deepEqual(listRecordedGpuRuns({ dir: `${OUT}/no-such-folder` }), []);
  const empty = Deno.makeTempDirSync();
  Deno.mkdirSync(`${empty}/numbers-lora`); // not a gpu-* folder: ignored
  assert.deepEqual(listRecordedGpuRuns({ dir: empty }), []);

  const source = listRecordedGpuRuns({ dir: OUT }).find((r) => r.method === "lora");
  assert.ok(source, "run the smoke test first (same file)");
  // Each case spoils a copy of the smoke run's folder.
  const edit = (change: (rec: Record<string, Record<string, unknown>>) => void) => (dir: string) => {
    const rec = JSON.parse(Deno.readTextFileSync(`${dir}/recorded.json`));
    change(rec);
    Deno.writeTextFileSync(`${dir}/recorded.json`, JSON.stringify(rec));
  };
  const cases: [string, (dir: string) => void, RegExp][] = [
    [
      "batchSize as a string",
      edit((rec) => (rec.batchSize = "16" as never)),
      /recorded\.json: field batchSize: /,
    ],
    ["no GPU name", edit((rec) => delete rec.gpu.name), /recorded\.json: field gpu\.name: /],
    ["another schema", edit((rec) => (rec.schema = "v0" as never)), /recorded\.json: field schema: /],
    [
      "a method the config did not run",
      edit((rec) => (rec.method = "qdora" as never)),
      /field method: "qdora"/,
    ],
    ["no recorded.json", (dir) => Deno.removeSync(`${dir}/recorded.json`), /recorded\.json: missing\. /],
    [
      "broken JSON",
      (dir) => Deno.writeTextFileSync(`${dir}/recorded.json`, "{"),
      /recorded\.json: not valid JSON/,
    ],
  ];
  for (const [name, spoil, expected] of cases) {
    const dir = Deno.makeTempDirSync();
    const run = `${dir}/gpu-test-shape-lora`;
    copyRun(source.runDir, run);
    spoil(run);
    assert.throws(() => listRecordedGpuRuns({ dir }), (e: Error) => {
      assert.match(e.message, expected, name);
      assert.ok(e.message.includes(`${run}/recorded.json`), `${name}: ${e.message}`);
      assert.ok(!e.message.includes("\n"), `${name}: one line`);
      assert.match(e.message, /Re-record the run with bench\/gpu_memory_bench\.py or delete/);
      return true;
    });
    Deno.removeSync(dir, { recursive: true });
  }
  Deno.removeSync(empty, { recursive: true });
  Deno.removeSync(OUT, { recursive: true });
});
