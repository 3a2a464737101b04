import assert from "node:assert/strict";
import { projectRoot } from "../lib/env/paths.ts";
import { listRuns, loadRun, replayRun } from "../lib/train/run_store.ts";
import { summarizeRun } from "../lib/train/compare_runs.ts";
import { eventsOf, type TrainEvent } from "../lib/train/events.ts";

const RECORDED = `${projectRoot()}/data/runs`;

Deno.test("the shipped recorded runs load, parse with the event schemas and replay identically", async () => {
  const runs = listRuns(RECORDED);
  assert.deepEqual(runs.map((r) => r.id).sort(), ["numbers-dora", "numbers-lora", "numbers-pissa"]);
  for (const run of runs) {
    assert.equal(run.status, "done");
    const replayed: TrainEvent[] = [];
    await replayRun(run, { onEvent: (e) => void replayed.push(e) });
    assert.deepEqual(replayed, run.events);
    assert.ok(!JSON.stringify(run.config).includes("/work/"), "paths are relative to the project");
    const row = summarizeRun(run.id, { ...run, ok: true });
    assert.equal(row.method, run.id.replace("numbers-", ""));
    assert.ok(row.exactMatch !== null && row.exactMatch > 0.3, `${run.id}: exact match ${row.exactMatch}`);
  }
});

Deno.test("recorded protocol-1 runs (snake_case) read with the protocol-2 field names; records keep their keys", () => {
  const raw = Deno.readTextFileSync(`${RECORDED}/numbers-lora/events.jsonl`).split("\n").filter(Boolean)
    .map((l) => JSON.parse(l));
  assert.ok(raw.every((e) => e.protocol === 1), "the shipped runs are protocol 1");
  const run = loadRun(`${RECORDED}/numbers-lora`);
  const [start] = eventsOf(run.events, "start"), [end] = eventsOf(run.events, "end");
  const rawStart = raw.find((e) => e.event === "start"), rawEnd = raw.find((e) => e.event === "end");
  assert.equal(start.trainableParams, rawStart.trainable_params);
  assert.equal(start.baseLoss, rawStart.base_loss);
  assert.equal(end.finalLoss, rawEnd.final_loss);
  assert.equal(end.trainSeconds, rawEnd.train_seconds);
  assert.deepEqual(
    Object.keys(start.paramsByModule ?? {}).sort(),
    Object.keys(rawStart.params_by_module ?? {}).sort(),
  );
  assert.equal("trainable_params" in start, false);
  const evals = eventsOf(run.events, "eval");
  assert.deepEqual(
    evals.map((e) => e.evalLoss),
    raw.filter((e) => e.event === "eval").map((e) => e.eval_loss),
  );
});

Deno.test("loadRun() names the folder and what is missing, and the line of a corrupt event", () => {
  assert.throws(
    () => loadRun("/nonexistent/run"),
    /\/nonexistent\/run: not a run folder \(needs config\.json and events\.jsonl\)/,
  );
  const dir = Deno.makeTempDirSync();
  Deno.copyFileSync(`${RECORDED}/numbers-lora/config.json`, `${dir}/config.json`);
  const lines = Deno.readTextFileSync(`${RECORDED}/numbers-lora/events.jsonl`).split("\n");
  lines[2] = '{"event": "step", "protocol": 1}';
  Deno.writeTextFileSync(`${dir}/events.jsonl`, lines.join("\n"));
  assert.throws(() => loadRun(dir), /events\.jsonl:3: field time/);
});

Deno.test("a last line cut off mid-write (the writer was killed) is reported, not fatal; the events before it load", () => {
  const dir = Deno.makeTempDirSync();
  Deno.copyFileSync(`${RECORDED}/numbers-lora/config.json`, `${dir}/config.json`);
  const text = Deno.readTextFileSync(`${RECORDED}/numbers-lora/events.jsonl`);
  const lines = text.trimEnd().split("\n");
  // Cut the file in the middle of line 10, as a SIGKILL during a write would.
  const cut = lines.slice(0, 9).join("\n") + "\n" + lines[9].slice(0, Math.floor(lines[9].length / 2));
  Deno.writeTextFileSync(`${dir}/events.jsonl`, cut);
  const run = loadRun(dir);
  assert.equal(run.events.length, 9);
  assert.match(run.truncated ?? "", /events\.jsonl:10: the last line was cut off mid-write/);
  assert.equal(run.status, "running");
  // The same broken line in the middle of the file is corruption, not a cut: it still fails, naming the line.
  Deno.writeTextFileSync(`${dir}/events.jsonl`, cut + "\n" + lines[10] + "\n");
  assert.throws(() => loadRun(dir), /events\.jsonl:10: not JSON/);
});

Deno.test("status comes from the last end or error: a resumed run that ended is done", () => {
  const dir = Deno.makeTempDirSync();
  Deno.copyFileSync(`${RECORDED}/numbers-lora/config.json`, `${dir}/config.json`);
  const lines = Deno.readTextFileSync(`${RECORDED}/numbers-lora/events.jsonl`).trimEnd().split("\n");
  const stop = JSON.stringify({
    event: "error",
    protocol: 2,
    time: 1,
    kind: "interrupted",
    message: "stopped at step 5",
    hint: "resume",
  });
  Deno.writeTextFileSync(`${dir}/events.jsonl`, [...lines.slice(0, 8), stop].join("\n") + "\n");
  assert.equal(loadRun(dir).status, "interrupted");
  Deno.writeTextFileSync(`${dir}/events.jsonl`, [...lines.slice(0, 8), stop, ...lines].join("\n") + "\n");
  assert.equal(loadRun(dir).status, "done");
});
