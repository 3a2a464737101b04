/** Checks shared by the tests of the recorded-GPU-run benches (memory and throughput). */
import assert from "node:assert/strict";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";
import { parseRunConfig } from "../lib/train/run_config.ts";

/**
 * A recorded run ships numbers, not weights (config.json, events.jsonl, recorded.json only), and its config is
 * exactly what `parseRunConfig` produces.
 *
 * @param runDir The recorded run's folder.
 * @returns Its config.json, parsed.
 */
export function assertRecordedRunFolder(runDir: string): Record<string, unknown> & { backend?: string } {
  assert.deepEqual([...Deno.readDirSync(runDir)].map((e) => e.name).sort(), [
    "config.json",
    "events.jsonl",
    "recorded.json",
  ]);
  const config = JSON.parse(Deno.readTextFileSync(`${runDir}/config.json`));
  assert.deepEqual(parseRunConfig(config), config);
  return config;
}

/**
 * Runs a recording bench's `--smoke` (a CPU proof run into `out`) and returns what it printed.
 *
 * @param bench The script under `bench/`, e.g. "gpu_memory_bench.py".
 * @param out The folder for its runs.
 * @returns Its stdout (the assertion message carries stderr's tail when it fails).
 */
export async function runBenchSmoke(bench: string, out: string): Promise<string> {
  const result = await new Deno.Command(pythonPath(), {
    args: [`${projectRoot()}/bench/${bench}`, "--smoke", "--out", out],
    cwd: projectRoot(),
    env: { OMP_NUM_THREADS: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(result.stdout);
  assert.equal(result.code, 0, text + new TextDecoder().decode(result.stderr).slice(-3000));
  return text;
}
