/**
 * Interrupting a cell through the real kernel (jupyter_client's interrupt_kernel, what JupyterLab's ■ button
 * sends) while it awaits trainRun: the trainer stops within seconds with a checkpoint, events.jsonl ends with
 * `interrupted`, the kernel survives, and the next cell resumes the run from that checkpoint.
 */
import assert from "node:assert/strict";
import { projectRoot, pythonPath } from "../lib/env/paths.ts";

Deno.test("a kernel interrupt during trainRun stops the trainer with a checkpoint; the next cell resumes", async () => {
  const runs = Deno.makeTempDirSync({ prefix: "ince-interrupt-" });
  const out = await new Deno.Command(pythonPath(), {
    args: [`${projectRoot()}/tests/python/drive_kernel_interrupt.py`, projectRoot(), runs],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.ok(out.success, text + new TextDecoder().decode(out.stderr).slice(-3000));
  const r = JSON.parse(text.trim().split("\n").at(-1)!);
  const why = JSON.stringify(r, null, 1);
  assert.equal(r.mode, "signal", "the installed kernel spec uses signal interrupts (run deno task setup)");
  assert.ok(r.firstCell.idle, `the interrupted cell ended: ${why}`);
  assert.match(r.firstCell.text, /"kind":"interrupted"/, why);
  assert.notEqual(r.trainerGoneSeconds, null, `the trainer process is gone: ${why}`);
  assert.equal(r.lastEventBeforeResume.event, "error", why);
  assert.equal(r.lastEventBeforeResume.kind, "interrupted", why);
  const saved = (r.checkpoints as string[]).filter((c) => /^checkpoint-\d+$/.test(c));
  assert.ok(saved.length >= 1, `a checkpoint exists: ${why}`);
  assert.ok(r.kernelAlive, why);
  assert.ok(r.resumedCell.idle && !r.resumedCell.error, why);
  const resumed = JSON.parse(r.resumedCell.text.trim().split("\n").at(-1));
  assert.equal(resumed.ok, true, why);
  const newest = Math.max(...saved.map((c) => Number(c.split("-")[1])));
  assert.equal(resumed.firstStep, newest + 1, `resumed after the checkpoint: ${why}`);
  assert.equal(resumed.lastStep, 60, why);
  console.log(
    `interrupted after ${r.stepsBeforeInterrupt} logged steps; cell idle after ${
      r.firstCell.secondsToIdle.toFixed(1)
    } s, ` +
      `trainer gone after ${r.trainerGoneSeconds.toFixed(1)} s; resumed at step ${resumed.firstStep}`,
  );
  Deno.removeSync(runs, { recursive: true });
});
