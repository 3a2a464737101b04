/**
 * Records the runs shipped in data/runs/ (so CPU students can replay real curves without training):
 * LoRA vs DoRA vs PiSSA on the numbers set, same data, seed and budget, via compareRuns.
 *
 *   .tools/bin/deno run -A data/scripts/record_runs.ts
 */
import { compareRuns } from "../../lib/train/compare_runs.ts";
import { projectRoot } from "../../lib/env/paths.ts";

const ROOT = projectRoot();
const tmp = Deno.makeTempDirSync({ prefix: "ince-record-" });
const rows = await compareRuns(
  {
    model: `${ROOT}/data/models/ince-tiny`,
    dataset: {
      train: `${ROOT}/data/datasets/numbers-train.jsonl`,
      eval: `${ROOT}/data/datasets/numbers-heldout.jsonl`,
    },
    lora: { r: 16, alpha: 32, dropout: 0 },
    train: {
      maxSteps: 300,
      batchSize: 16,
      lr: 3e-3,
      warmupSteps: 10,
      evalEvery: 50,
      maxLength: 64,
      logEvery: 5,
      seed: 42,
    },
    eval: { maxExamples: 60 },
  },
  { lora: { method: "lora" }, dora: { method: "dora" }, pissa: { method: "pissa" } },
  { runsDir: tmp },
);
console.table(rows.map(({ runDir: _, ...r }) => r));
for (const row of rows) {
  const dest = `${ROOT}/data/runs/numbers-${row.name}`;
  Deno.mkdirSync(dest, { recursive: true });
  // Keep config and events only, with paths made relative to the project (the folder must replay anywhere).
  const rel = (text: string) =>
    text.replaceAll(`${ROOT}/`, "").replaceAll(row.runDir, `data/runs/numbers-${row.name}`);
  Deno.writeTextFileSync(`${dest}/config.json`, rel(Deno.readTextFileSync(`${row.runDir}/config.json`)));
  Deno.writeTextFileSync(`${dest}/events.jsonl`, rel(Deno.readTextFileSync(`${row.runDir}/events.jsonl`)));
}
Deno.removeSync(tmp, { recursive: true });
