/**
 * A run's folder, made before the trainer starts: the config parsed once, paths made absolute (a
 * notebook's cwd is its own folder; the trainer's is the run folder), the datasets validated and written
 * as canonical rows (`data/train.jsonl`, `data/eval.jsonl`), and `config.json` written.
 *
 * @module
 */
import { detectProfile } from "../env/profile.ts";
import { absPath, exists } from "../util/fs.ts";
import { modelArg } from "../util/model_source.ts";
import { parseRunConfig, type RunConfig, type RunConfigInput } from "./run_config.ts";
import { loadDataset } from "../data/load_dataset.ts";
import { trainingRows } from "../data/training_rows.ts";
import { writeJsonLines } from "../util/lines.ts";

/** Makes relative paths absolute (a notebook's cwd is its own folder; the trainer's is not). */
function _resolvePaths(config: RunConfig): RunConfig {
  const model = modelArg(config.model);
  return {
    ...config,
    model,
    dataset: {
      train: absPath(config.dataset.train),
      ...(config.dataset.eval ? { eval: absPath(config.dataset.eval) } : {}),
    },
  };
}

/**
 * A fresh run id: UTC time, method and a short random suffix, e.g. `20261126T153000-dora-3f2a`.
 *
 * @param method The method, for readability.
 * @returns The id.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { newRunId } from "./run_folder.ts";
 * assert.match(newRunId("lora"), /^\d{8}T\d{6}-lora-[0-9a-f]{4}$/);
 * ```
 */
export function newRunId(method: string): string {
  return `${new Date().toISOString().replace(/[-:]/g, "").replace(/\..*/, "")}-${method}-${
    crypto.randomUUID().slice(0, 4)
  }`;
}

/** A run, prepared: config parsed once, folder made, `config.json` written. */
export interface PreparedRun {
  id: string;
  dir: string;
  config: RunConfig;
}

/**
 * Prepares a run: parses the config (once), makes relative paths absolute, refuses what cannot run here,
 * creates `<runsDir>/<id>/` and writes the `config.json` the trainer reads.
 *
 * @param input The run config.
 * @param runsDir The folder of run folders (absolute).
 * @param runId The id (default: a fresh one); with `resume: true`, an interrupted run's id.
 * @returns The id, folder and the config as written.
 * @throws {Error} On an invalid config or dataset (`file:line: field …`), a dataset whose shape does not
 * fit the stage, NF4 without a GPU, or a resume with no checkpoints.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepareRun } from "./run_folder.ts";
 * import { numbersRecipe } from "./recipes.ts";
 * const runsDir = Deno.makeTempDirSync();
 * const run = prepareRun(numbersRecipe({ method: "dora" }), runsDir, "my-run");
 * assert.equal(run.dir, `${runsDir}/my-run`);
 * assert.deepEqual(JSON.parse(Deno.readTextFileSync(`${run.dir}/config.json`)), run.config);
 * assert.equal(run.config.method, "dora");
 * ```
 */
export function prepareRun(input: RunConfigInput, runsDir: string, runId?: string): PreparedRun {
  const parsed = _resolvePaths(parseRunConfig(input));
  if (parsed.quant === "nf4" && parsed.device !== "cuda" && detectProfile() === "cpu") {
    throw new Error(
      `Invalid run config — quant: NF4 (bitsandbytes) needs a CUDA or ROCm GPU and none was found (no nvidia-smi or ` +
        `rocminfo); on a CPU use quant: "none" (or method "lora"/"dora" instead of "qlora"/"qdora").`,
    );
  }
  // The one dataset validator (lib/data): a bad file is refused here, naming file:line: field, before
  // anything starts; the trainer reads only the canonical rows written below.
  const stage = parsed.stage;
  const train = loadDataset(input.dataset.train);
  const evalSet = input.dataset.eval ? loadDataset(input.dataset.eval) : null;
  const rows = { train: trainingRows(train, stage), eval: evalSet ? trainingRows(evalSet, stage) : null };
  const id = runId ?? newRunId(parsed.method);
  const dir = `${runsDir}/${id}`;
  if (parsed.resume && !exists(`${dir}/checkpoints`)) {
    throw new Error(
      `Cannot resume run ${id}: ${dir}/checkpoints does not exist. Pass the runId of an interrupted run.`,
    );
  }
  Deno.mkdirSync(`${dir}/data`, { recursive: true });
  writeJsonLines(`${dir}/data/train.jsonl`, rows.train);
  if (rows.eval) writeJsonLines(`${dir}/data/eval.jsonl`, rows.eval);
  const config = { ...parsed, runDir: dir };
  Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify(config, null, 2) + "\n");
  return { id, dir, config };
}
