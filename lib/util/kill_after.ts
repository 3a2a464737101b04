/**
 * A time limit for a child process: SIGKILL after `ms`, and whether that happened.
 *
 * @module
 */

/** What {@linkcode killAfter} returns. */
export interface KillTimer {
  /** True once the process was killed for time. */
  readonly timedOut: boolean;
  /** Cancels the timer (call when the process has ended). */
  clear(): void;
}

/**
 * Kills a child process with SIGKILL if it is still running after `ms` milliseconds.
 *
 * @param child The spawned process.
 * @param ms The limit.
 * @returns A timer to clear when the process ends, and whether it fired.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { killAfter } from "./kill_after.ts";
 * const child = new Deno.Command("sleep", { args: ["10"] }).spawn();
 * const timer = killAfter(child, 100);
 * const status = await child.status;
 * timer.clear();
 * assert.equal(timer.timedOut, true);
 * assert.equal(status.signal, "SIGKILL");
 * ```
 */
export function killAfter(child: Deno.ChildProcess, ms: number): KillTimer {
  let fired = false;
  const id = setTimeout(() => {
    fired = true;
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, ms);
  return {
    get timedOut() {
      return fired;
    },
    clear: () => clearTimeout(id),
  };
}
