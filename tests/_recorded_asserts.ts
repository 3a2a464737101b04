/** Checks shared by the tests of the recorded-GPU-run benches (memory and throughput). */
import assert from "node:assert/strict";
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
