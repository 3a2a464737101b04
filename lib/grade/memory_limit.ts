/**
 * A memory limit for a child Deno process that runs code we did not write. V8's heap flag
 * (`--max-old-space-size`) does not count array buffers, so on Linux the process also gets a
 * data-segment rlimit (`ulimit -d`, RLIMIT_DATA: every private writable mapping, the heap and array
 * buffers alike) of the code's share plus {@linkcode DENO_RESERVE_MB} for Deno itself (it maps about
 * 0.6 GB before running any code). An allocation past it fails (`RangeError: Array buffer allocation
 * failed`, or V8's fatal "out of memory") instead of taking the machine's memory. Elsewhere only the
 * heap flag limits memory.
 *
 * @module
 */

/** What Deno itself needs of the data-segment limit, in MB, on top of the code's share. */
export const DENO_RESERVE_MB = 1024;

/**
 * Wraps a command so that it runs under a data-segment limit (Linux; unchanged elsewhere). The
 * wrapper `exec`s the command, so the process id (for a kill) is the command's own.
 *
 * @param command The program and its arguments, e.g. `[Deno.execPath(), "run", "x.ts"]`.
 * @param memoryMb The code's share in MB (pass the same to `--max-old-space-size`).
 * @returns The command to spawn; it exits with 125 if the limit cannot be set.
 *
 * @example A 2 GB buffer fails under a 256 MB limit
 * ```ts
 * import assert from "node:assert/strict";
 * import { memoryLimited } from "./memory_limit.ts";
 * const code = "try { new ArrayBuffer(2 ** 31); console.log('allocated'); } catch (e) { console.log(String(e)); }";
 * const [cmd, ...args] = memoryLimited([Deno.execPath(), "eval", code], 256);
 * const out = new TextDecoder().decode((await new Deno.Command(cmd, { args }).output()).stdout).trim();
 * assert.equal(out, Deno.build.os === "linux" ? "RangeError: Array buffer allocation failed" : "allocated");
 * ```
 */
export function memoryLimited(command: string[], memoryMb: number): string[] {
  if (Deno.build.os !== "linux") return command;
  const kb = Math.round((memoryMb + DENO_RESERVE_MB) * 1024);
  return ["/bin/sh", "-c", 'ulimit -d "$1" || exit 125; shift; exec "$@"', "sh", String(kb), ...command];
}
