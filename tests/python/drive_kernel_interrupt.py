"""Drives ince's real Jupyter kernel the way JupyterLab's ■ button does (jupyter_client's interrupt_kernel):
a cell awaits trainRun, the kernel is interrupted after a few steps, then a second cell resumes the run.
Called by tests/kernel_interrupt_test.ts (not collected by pytest: the name has no test_ prefix).

    python drive_kernel_interrupt.py ROOT RUNS_DIR  ->  one JSON line with what happened
"""
import json
import os
import subprocess
import sys
import time

from jupyter_client.manager import start_new_kernel

root, runs = sys.argv[1], sys.argv[2]
run_dir = os.path.join(runs, "interrupted")
config = ("numbersRecipe({ dataset: { eval: undefined }, "
          "train: { maxSteps: 60, batchSize: 8, lr: 2e-3, logEvery: 1, evalEvery: 0, warmupSteps: 0 } })")
km, kc = start_new_kernel(kernel_name="ince", cwd=root)
out = {"mode": km.kernel_spec.interrupt_mode}


def read_cell(msg_id: str, timeout: float, quiet: float = 0.5) -> dict:
    """Reads a cell's stdout/stderr text and error to its idle status, then on until iopub has been quiet for
    `quiet` seconds: the Deno kernel can send a cell's outputs after its idle status (DENO_KERNEL_NOTES.md)."""
    t0, text, error, idle_at = time.time(), [], None, None
    while time.time() - t0 < timeout:
        if idle_at is not None and time.time() - idle_at > quiet:
            break
        try:
            m = kc.get_iopub_msg(timeout=0.1)
        except Exception:  # noqa: BLE001 (queue.Empty)
            continue
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "stream":
            text.append(m["content"]["text"])
        elif m["msg_type"] == "error":
            error = f"{m['content']['ename']}: {m['content']['evalue']}"
        elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            idle_at = time.time()
            continue
        if idle_at is not None:
            idle_at = time.time()  # a late output: wait for quiet again
    return {"text": "".join(text), "error": error, "seconds": (idle_at or time.time()) - t0,
            "idle": idle_at is not None}


def run_cell(code: str, timeout: float) -> dict:
    """Runs a cell to its idle status (and its late outputs); returns its text, error and seconds."""
    return read_cell(kc.execute(code), timeout)


def steps_written() -> int:
    try:
        with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
            return sum('"event": "step"' in line or '"event":"step"' in line for line in f)
    except FileNotFoundError:
        return 0


def trainer_alive() -> bool:
    return subprocess.run(["pgrep", "-f", f"{run_dir}/config.json"], capture_output=True).returncode == 0


try:
    run_cell(f'import {{ numbersRecipe, trainRun }} from "{root}/lib/mod.ts";', 120)
    msg_id = kc.execute(
        f'const first = await trainRun({config}, {{ runsDir: "{runs}", runId: "interrupted" }});\n'
        'console.log(JSON.stringify({ ok: first.ok, kind: first.error?.kind ?? null }));'
    )
    t0 = time.time()
    while steps_written() < 5 and time.time() - t0 < 300:
        time.sleep(0.05)
    out["stepsBeforeInterrupt"] = steps_written()
    km.interrupt_kernel()
    t_int = time.time()
    # The first cell's own end: read its outputs until it is idle and quiet.
    first = read_cell(msg_id, 120, quiet=2.0)
    out["firstCell"] = {"text": first["text"], "error": first["error"], "idle": first["idle"],
                        "secondsToIdle": first["seconds"]}
    while trainer_alive() and time.time() - t_int < 60:
        time.sleep(0.1)
    out["trainerGoneSeconds"] = None if trainer_alive() else time.time() - t_int
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
        out["lastEventBeforeResume"] = json.loads(f.read().strip().split("\n")[-1])
    ckpts = os.path.join(run_dir, "checkpoints")
    out["checkpoints"] = sorted(os.listdir(ckpts)) if os.path.isdir(ckpts) else []
    out["kernelAlive"] = km.is_alive()
    resumed = run_cell(
        f'const again = await trainRun({{ ...{config}, resume: true }}, {{ runsDir: "{runs}", runId: "interrupted" }});\n'
        'console.log(JSON.stringify({ ok: again.ok, firstStep: again.events.find((e) => e.event === "step")?.step, '
        'lastStep: again.end?.steps }));', 300)
    out["resumedCell"] = resumed
finally:
    kc.stop_channels()
    km.shutdown_kernel(now=True)
print(json.dumps(out))
