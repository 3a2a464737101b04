/**
 * Interrupting a cell (JupyterLab's ■ button, or a runner's time limit) while it awaits a Python process.
 *
 * ince's kernel uses `interrupt_mode: "signal"`: Jupyter sends SIGINT to the kernel's whole process group,
 * so the Python process the cell is waiting on (the trainer, a generation job) receives it as well and
 * stops — the trainer saves a checkpoint and reports `error{kind: "interrupted"}`, and `trainRun` returns
 * that run (resume it with `resume: true` and the same `runId`); a generation job fails with a one-line
 * error. Deno would exit on SIGINT, losing the kernel's variables, unless a listener is registered: this
 * module registers one, in the kernel only, when the library is imported.
 *
 * The trade-off, measured with the Deno kernel: with `"message"` mode an interrupt stops a busy
 * synchronous loop, but an interrupted `await` never resumes — the cell hangs until the kernel is
 * restarted, and the Python process keeps running. Long work in the lessons is awaited, so `"signal"` is
 * the mode that stops it; a busy synchronous loop now needs a kernel restart instead.
 *
 * @module
 */
import { displayTarget } from "../display/display.ts";

let _installed = false;

/**
 * Keeps the kernel alive on SIGINT (in the kernel only; elsewhere SIGINT keeps Deno's default: exit).
 *
 * @param options `force` installs the listener outside the kernel too (for tests).
 * @returns Whether the listener is installed.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keepKernelOnInterrupt } from "./kernel_interrupt.ts";
 * assert.equal(keepKernelOnInterrupt(), false); // a test process is not the kernel
 * ```
 */
export function keepKernelOnInterrupt(options: { force?: boolean } = {}): boolean {
  if (_installed) return true;
  if (!options.force && displayTarget() !== "kernel") return false;
  Deno.addSignalListener("SIGINT", () => {
    console.error(
      "⏹ Interrupted: the Python process this cell waits on was stopped too (a training run saves a " +
        "checkpoint first; continue it with resume: true and the same runId).",
    );
  });
  _installed = true;
  return true;
}
