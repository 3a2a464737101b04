"""GPU throughput bench: tokens/s, MFU and peak memory of LoRA / DoRA / PiSSA / QLoRA / QDoRA through the real ince
trainer with each backend, against plain TRL + PEFT measured in the same run; recorded for lesson 01.

    .tools/venv/bin/python bench/gpu_train_bench.py                       # on a CUDA GPU (≈ 6 min expected, H100)
    .tools/venv/bin/python bench/gpu_train_bench.py --smoke               # proves the script on a CPU (< 60 s)
    .tools/venv/bin/python bench/gpu_train_bench.py --prepare-wheels .whl # packages a bare GPU machine lacks

The model, tokenizer, dataset, run configs, trainer processes and run folders are bench/gpu_memory_bench.py's (this
file imports them): a random-initialised model of `--shape` (default the Qwen2.5-0.5B shape, nothing downloaded),
the built-in tokenizer, synthetic rows longer than `--seq` so that every row is cut to exactly `--seq` tokens (no
padding anywhere), LoRA r16 α32 all-linear, bf16, batch 16 × 512, 20 steps.

Rows of the table, each `method × backend`:
- `peft`: the trainer as it is by default (transformers + PEFT + TRL, no throughput setting on).
- `peft+liger`: `train.liger` (TRL's `use_liger_kernel`: Liger's fused RMSNorm, RoPE and SwiGLU Triton kernels;
  TRL 1.16 keeps its own chunked LM head instead of Liger's fused cross-entropy). Padding-free and packing are NOT
  turned on: the rows are all exactly `--seq` tokens, so there is no padding for them to remove (they change the
  numbers only on data of mixed lengths; lesson 01 measures that on a CPU).
- `peft-dropout0`: the trainer's defaults with LoRA dropout 0 (a recipe change): PEFT's DoRA then reuses the base
  layer's output instead of a second full matmul, and LoRA skips a dropped-out copy of each adapted input.
- `peft+liger+compile` (only when asked for with --backends): `train.liger` + `train.compile` (torch.compile).
- `unsloth`: `backend: "unsloth"` (Unsloth's FastLanguageModel), run by the interpreter of Unsloth's own environment
  (`--unsloth-python`, requirements/unsloth.lock: its own torch < 2.15 and transformers ≤ 5.17), when
  lib/train/python/unsloth_backend.py, asked by that interpreter, says it can run; otherwise one line says why it is
  skipped. recorded.json then names that environment's versions.
- `plain`: the baseline, bench/plain_trl_peft.py — TRL + PEFT directly with the same rows and the same settings
  (dtype, batch, max length, LoRA config, lr, schedule, seed, no gradient checkpointing), everything else TRL's
  defaults. Run first, one process for all methods.
Each backend runs its methods in one trainer process of its own (Liger and Unsloth patch transformers for the whole
process); `--processes per-run` gives every run its own.

tokens/s is measured the same way for every row, from the step events: real tokens between the end of step
`--warmup` and the end of the last step, divided by the wall-clock time between those events (each step ends with
`torch.cuda.synchronize()` in both the trainer and the baseline). MFU = tokens/s × FLOPs per token / the GPU's
peak (the trainer's `end.flopsPerToken` and `end.peakFlops`: lib/train/python/flops.py, 6·N + attention,
data/gpu_peak_flops.json). The trainer's own `end.tokensPerSecond` (summed step times, step 1 left out) is kept
in recorded.json beside it. Peak memory is `torch.cuda.max_memory_allocated()` over the training steps.

Each ince run is kept as `<out>/gpu-<gpu>-<shape>-<method>-<backend>/` (config.json, events.jsonl, recorded.json
with the GPU, versions incl. liger_kernel and unsloth, date, command, knobs, the measured throughput and the
baseline's tokens/s); lib/train/recorded_gpu_runs.ts reads them back. The baseline is not a run of the trainer
and has no folder: its numbers are in each run's recorded.json.

Goals (issue 18), printed as PASS/FAIL at the end: LoRA with the knobs ≥ 1.5× plain TRL + PEFT's tokens/s at the
same batch and ≥ 25 % MFU; DoRA ≤ 1.4× LoRA's time per token; ince `peft` ≥ 0.97× plain with identical settings.

`--smoke` runs the same path on a CPU: a tiny shape, lora/dora/pissa × peft and the baseline, batch 2 × 64,
3 steps (1 of warm-up), float32, into a temporary folder; liger, unsloth, qlora and qdora print their one-line
reason for being skipped. tests/gpu_train_bench_test.ts runs it and reads the runs back.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gpu_memory_bench as mb  # noqa: E402

PY_LIB = os.path.join(mb.ROOT, "lib", "train", "python")
PLAIN = os.path.join(mb.ROOT, "bench", "plain_trl_peft.py")
METHODS = ("lora", "dora", "pissa", "qlora", "qdora")
# A backend label of this bench → the run config's engine and throughput settings.
BACKENDS = {
    "peft": {"backend": "peft", "knobs": {}},
    "peft+liger": {"backend": "peft", "knobs": {"liger": True}},
    # LoRA dropout 0 (a recipe change, not a knob): PEFT's DoRA then reuses the base layer's output instead of a second
    # full matmul of the frozen weight (peft/tuners/lora/variants.py DoraLinearVariant.forward), and LoRA makes no
    # dropped-out copy of each adapted input. Lesson 01 measures both on a CPU.
    "peft-dropout0": {"backend": "peft", "knobs": {}, "lora": {"dropout": 0.0}},
    "peft+liger+compile": {"backend": "peft", "knobs": {"liger": True, "compile": True}},
    "unsloth": {"backend": "unsloth", "knobs": {}},
}
DEFAULT_BACKENDS = ("peft", "peft-dropout0", "peft+liger", "unsloth")
PLAIN_LABEL = "plain TRL+PEFT"
# Liger's wheel (pure Python, 0.9 MB; needs torch ≥ 2.1.2 and triton ≥ 2.3.1; TRL 1.16 asks for ≥ 0.8.2).
LIGER_PIN = "liger-kernel==0.8.5"
VERSION_PACKAGES = (*mb.VERSION_PACKAGES, "triton", "liger_kernel", "unsloth", "unsloth_zoo")
GOALS = {"speedup": 1.5, "mfu": 0.25, "dora": 1.4, "overhead": 0.97}


def say(msg: str) -> None:
    mb.say(msg)


def method_skip_reason(method: str, *, cpu: bool) -> str | None:
    """Why `method` cannot run here with any backend, in one sentence; None when it can."""
    if mb.METHODS[method]["quant"] == "nf4":
        if cpu:
            return "on a CPU: NF4 (bitsandbytes 4-bit training) needs a CUDA GPU"
        if importlib.util.find_spec("bitsandbytes") is None:
            return "bitsandbytes is not installed (carry its wheel: --prepare-wheels)"
    return None


def backend_skip_reason(backend: str, *, cpu: bool, unsloth_python: str) -> str | None:
    """Why `backend` cannot run here, in one sentence; None when it can."""
    knobs = BACKENDS[backend]["knobs"]
    if knobs.get("liger"):
        if cpu:
            return "on a CPU: Liger's kernels are Triton GPU kernels (train.liger needs a CUDA or ROCm GPU)"
        missing = [p for p in ("liger_kernel", "triton") if importlib.util.find_spec(p) is None]
        if missing:
            return f"{' and '.join(missing)} not installed (carry {LIGER_PIN}: --prepare-wheels)"
    if BACKENDS[backend]["backend"] == "unsloth":
        return unsloth_unavailable("cpu" if cpu else "cuda", unsloth_python)
    return None


def unsloth_unavailable(device: str, python: str) -> str | None:
    """The trainer's own answer (lib/train/python/unsloth_backend.py, which never imports Unsloth without a GPU),
    asked of the interpreter that will run the unsloth rows (Unsloth has its own environment: requirements/unsloth.lock)."""
    if python != sys.executable:
        try:
            out = subprocess.run([python, os.path.join(PY_LIB, "unsloth_backend.py")], input=json.dumps({"device": device}),
                                 capture_output=True, text=True, timeout=300)
            status = json.loads(out.stdout.strip().splitlines()[-1])
        except (OSError, subprocess.SubprocessError, ValueError, IndexError) as e:
            return f"--unsloth-python {python} could not answer ({type(e).__name__}: {e}); check the interpreter"
        return None if status.get("available") else status.get("reason") or "Unsloth is unavailable (no reason given)"
    sys.path.insert(0, PY_LIB)
    try:
        import unsloth_backend
    except ImportError:
        unsloth_backend = None
    finally:
        sys.path.remove(PY_LIB)
    if unsloth_backend is not None:
        return unsloth_backend.unavailable_reason(device)
    if device == "cpu":
        return "on a CPU: Unsloth needs a CUDA GPU (backend \"peft\" runs the same config here)"
    if importlib.util.find_spec("unsloth") is None:
        return "Unsloth is not installed (bench --prepare-wheels --with-unsloth, or deno task setup --unsloth)"
    return None


def read_events(run_dir: str) -> list[dict]:
    path = os.path.join(run_dir, "events.jsonl")
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def measure(run_dir: str, *, warmup: int, batch: int, seq: int, flops_fallback: dict) -> dict:
    """tokens/s after the warm-up steps, MFU, peak allocated bytes and the trainer's own readings, from events."""
    events = read_events(run_dir)
    end = next((e for e in events if e["event"] == "end"), None)
    err = next((e for e in events if e["event"] == "error"), None)
    steps = [e for e in events if e["event"] == "step"]
    tps = None
    if steps:
        ref = next((s for s in reversed(steps) if s["step"] <= warmup), None)
        last = steps[-1]
        if ref is not None and last["step"] > ref["step"] and last["time"] > ref["time"]:
            if last.get("tokens") is not None and ref.get("tokens") is not None:
                tokens = last["tokens"] - ref["tokens"]
            else:
                tokens = (last["step"] - ref["step"]) * batch * seq
            tps = tokens / (last["time"] - ref["time"])
    fpt = (end or {}).get("flopsPerToken") or flops_fallback.get("flopsPerToken")
    peak = (end or {}).get("peakFlops") or flops_fallback.get("peakFlops")
    padded = steps[-1].get("paddedTokens") if steps else None
    return {
        "status": "done" if end else (f"failed ({err['kind']})" if err else "no end"),
        "error": err["message"] if err else None,
        "tokensPerSecond": tps,
        "mfu": tps * fpt / peak if tps and fpt and peak else None,
        "flopsPerToken": fpt,
        "peakFlops": peak,
        "peakFlopsSource": (end or {}).get("peakFlopsSource") or flops_fallback.get("peakFlopsSource"),
        "peakAllocatedBytes": (end or {}).get("peakAllocatedBytes"),
        "batchSize": (end or {}).get("batchSize") or batch,
        "paddingFraction": 1 - steps[-1]["tokens"] / padded if padded and steps[-1].get("tokens") else None,
        "trainerTokensPerSecond": (end or {}).get("tokensPerSecond"),
        "trainerMfu": (end or {}).get("mfu"),
        "engineArgs": (end or {}).get("engineArgs"),
        "measuredSteps": (steps[-1]["step"] - warmup) if steps and steps[-1]["step"] > warmup else 0,
        "finalLoss": steps[-1]["loss"] if steps else None,
    }


def flops_fallback(shape_config: dict, seq: int, gpu_name: str | None, dtype: str) -> dict:
    """FLOPs per token and peak for rows whose events lack them (the baseline): the trainer's own flops.py, with S =
    seq (every row of the synthetic dataset is exactly seq tokens)."""
    sys.path.insert(0, PY_LIB)
    try:
        import flops
    finally:
        sys.path.remove(PY_LIB)
    peak, source = flops.peak_flops(gpu_name, dtype)
    return {"flopsPerToken": flops.flops_per_token(shape_config, seq)["total"], "peakFlops": peak,
            "peakFlopsSource": source}


def check_knobs(label: str, m: dict) -> str | None:
    """A warning when a throughput setting did not reach TRL (end.engineArgs, read back from TRL's args)."""
    args = m.get("engineArgs")
    if m["status"] != "done" or args is None:
        return None
    knobs = BACKENDS[label]["knobs"]
    wrong = [f"{k}={args.get(name)!r}" for k, name in (("liger", "use_liger_kernel"), ("compile", "torch_compile"))
             if bool(knobs.get(k)) != bool(args.get(name))]
    return f"{label}: the engine's args disagree with the config: {', '.join(wrong)}" if wrong else None


def fmt(x, spec: str) -> str:
    return "—" if x is None else format(x, spec)


def print_table(rows: list[dict], head: str) -> None:
    print()
    print(head)
    cols = ("method", "backend", "knobs", "batch", "status", "tokens/s", "MFU", "peak alloc GiB", "× plain",
            "DoRA/LoRA time", "last loss")
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    for r in rows:
        m = r["m"]
        knobs = ",".join(k for k, v in BACKENDS.get(r["backend"], {"knobs": {}})["knobs"].items() if v) or "—"
        print(f"| {r['method']} | {r['backend']} | {knobs} | {m['batchSize']} | {m['status']} | "
              f"{fmt(m['tokensPerSecond'], ',.0f')} | {fmt(m['mfu'] and 100 * m['mfu'], '.1f')}{'' if m['mfu'] is None else ' %'} | "
              f"{fmt(m['peakAllocatedBytes'] and m['peakAllocatedBytes'] / 2**30, '.2f')} | {fmt(r.get('ratio'), '.3f')} | "
              f"{fmt(r.get('doraTime'), '.2f')} | {fmt(m['finalLoss'], '.4f')} |")
    print()


def goal_lines(rows: list[dict], smoke: bool) -> list[str]:
    """The issue's goals as PASS/FAIL (n/a where a number is missing)."""
    tag = " (smoke run on a CPU: shows the check, measures nothing)" if smoke else ""
    get = {(r["method"], r["backend"]): r for r in rows}
    tps = lambda m, b: (get.get((m, b)) or {"m": {}})["m"].get("tokensPerSecond")  # noqa: E731
    verdict = lambda ok: "PASS" if ok else "FAIL"  # noqa: E731
    out = []
    plain = tps("lora", PLAIN_LABEL)
    knob_rows = [r for r in rows if r["method"] == "lora" and r["backend"] not in ("peft", PLAIN_LABEL)
                 and r["m"].get("tokensPerSecond")]
    best = max(knob_rows, key=lambda r: r["m"]["tokensPerSecond"], default=None)
    if best and plain:
        x = best["m"]["tokensPerSecond"] / plain
        out.append(f"goal: LoRA with the knobs ≥ {GOALS['speedup']}× plain TRL+PEFT tokens/s (same batch): best "
                   f"{best['backend']} {x:.2f}× → {verdict(x >= GOALS['speedup'])}{tag}")
    else:
        out.append(f"goal: LoRA with the knobs ≥ {GOALS['speedup']}× plain TRL+PEFT: n/a (no LoRA run with knobs"
                   f"{'' if plain else ' or no baseline'} finished){tag}")
    mfu_rows = [r for r in knob_rows if r["m"].get("mfu") is not None]
    if mfu_rows:
        b = max(mfu_rows, key=lambda r: r["m"]["mfu"])
        out.append(f"goal: LoRA with the knobs ≥ {GOALS['mfu']:.0%} MFU: best {b['backend']} {b['m']['mfu']:.1%} → "
                   f"{verdict(b['m']['mfu'] >= GOALS['mfu'])}{tag}")
    else:
        out.append(f"goal: LoRA with the knobs ≥ {GOALS['mfu']:.0%} MFU: n/a (no LoRA run with knobs and a known peak "
                   f"FLOP/s){tag}")
    for backend in dict.fromkeys(r["backend"] for r in rows):
        lo, do = tps("lora", backend), tps("dora", backend)
        if lo and do:
            x = lo / do
            out.append(f"goal: DoRA ≤ {GOALS['dora']}× LoRA's time per token ({backend}): {x:.2f}× → "
                       f"{verdict(x <= GOALS['dora'])}{tag}")
    ince = tps("lora", "peft")
    if ince and plain:
        x = ince / plain
        out.append(f"goal: ince trainer ≥ {GOALS['overhead']}× plain TRL+PEFT with identical settings (LoRA, peft): "
                   f"{x:.3f} → {verdict(x >= GOALS['overhead'])}{tag}")
    else:
        out.append(f"goal: ince trainer ≥ {GOALS['overhead']}× plain TRL+PEFT: n/a (LoRA peft or baseline missing){tag}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="CPU proof run: tiny shape, 3 steps, float32, temp folder")
    ap.add_argument("--out", help="folder of recorded runs (default data/runs; --smoke: a new temp folder)")
    ap.add_argument("--shape", default=mb.DEFAULT_SHAPE, help="a config-only model folder (default %(default)s)")
    ap.add_argument("--methods", help=f"comma list of {','.join(METHODS)} (default all)")
    ap.add_argument("--backends", help=f"comma list of {','.join(BACKENDS)} (default {','.join(DEFAULT_BACKENDS)})")
    ap.add_argument("--no-baseline", action="store_true", help="skip plain TRL + PEFT (no ratios then)")
    ap.add_argument("--batch", type=int, help="batch size (default 16; --smoke 2)")
    ap.add_argument("--seq", type=int, help="tokens per example (default 512; --smoke 64)")
    ap.add_argument("--steps", type=int, help="optimizer steps (default 20; --smoke 3)")
    ap.add_argument("--warmup", type=int, help="first steps left out of tokens/s (default 5; --smoke 1)")
    ap.add_argument("--unsloth-python", default=os.environ.get("INCE_UNSLOTH_PYTHON", sys.executable),
                    help="the interpreter of Unsloth's own environment, which runs the unsloth rows (default "
                         "$INCE_UNSLOTH_PYTHON, else this one); lib/train/unsloth.ts unslothPython() names it")
    ap.add_argument("--processes", choices=("per-backend", "per-run"), default="per-backend",
                    help="one process per backend (default) or per run")
    ap.add_argument("--timeout", type=float, default=240, help="seconds one run may take (default %(default)s)")
    ap.add_argument("--log", help="append the processes' stderr here (default: a temp file, its tail printed on failure)")
    ap.add_argument("--prepare-wheels", metavar="DIR", help="download the wheels a bare GPU machine lacks into DIR and stop")
    ap.add_argument("--with-unsloth", action="store_true",
                    help="with --prepare-wheels: also the wheels of requirements/unsloth.lock (when it exists)")
    a = ap.parse_args(argv)
    if a.prepare_wheels:
        return prepare_wheels(a.prepare_wheels, with_unsloth=a.with_unsloth)

    t0 = time.time()
    smoke = a.smoke
    methods = (a.methods or ",".join(METHODS)).split(",")
    backends = (a.backends or ",".join(DEFAULT_BACKENDS)).split(",")
    bad = [m for m in methods if m not in METHODS] + [b for b in backends if b not in BACKENDS]
    if bad:
        raise mb.BenchError(f"{', '.join(bad)} unknown; --methods takes {', '.join(METHODS)}, --backends "
                            f"{', '.join(BACKENDS)}")
    batch, seq = a.batch or (2 if smoke else 16), a.seq or (64 if smoke else 512)
    steps, warmup = a.steps or (3 if smoke else 20), a.warmup if a.warmup is not None else (1 if smoke else 5)
    if warmup >= steps - 1:
        raise mb.BenchError(f"--warmup {warmup} leaves fewer than 2 measured steps of --steps {steps}; lower it")
    if smoke and a.out and (os.path.abspath(a.out) + os.sep).startswith(os.path.join(mb.ROOT, "data", "runs") + os.sep):
        raise mb.BenchError(f"--out {a.out}: a smoke run must not write into data/runs (recorded GPU runs live there)")
    mb.preflight([m for m in methods if not (smoke and mb.METHODS[m]["quant"] == "nf4")], smoke)

    # Which method × backend pairs run; every skipped group is said in one line.
    skip_methods = {m: method_skip_reason(m, cpu=smoke) for m in methods}
    skip_backends = {b: backend_skip_reason(b, cpu=smoke, unsloth_python=a.unsloth_python) for b in backends}
    for why in dict.fromkeys(w for w in skip_methods.values() if w):
        say(f"skipped {', '.join(m for m, w in skip_methods.items() if w == why)}: {why}")
    for b, why in skip_backends.items():
        if why:
            say(f"skipped {b}: {why}")
    plan = [(m, b) for b in backends for m in methods if not skip_methods[m] and not skip_backends[b]]
    base_methods = [] if a.no_baseline else list(dict.fromkeys(m for m, _ in plan))

    work = tempfile.mkdtemp(prefix="ince-gpu-train-bench-")
    out = os.path.abspath(a.out or (os.path.join(work, "runs") if smoke else os.path.join(mb.ROOT, "data", "runs")))
    device, dtype = ("cpu", "float32") if smoke else ("cuda", "bfloat16")
    gpu = mb.gpu_info(smoke)
    shape_name = os.path.basename(os.path.normpath(a.shape)) + ("-smoke" if smoke else "")
    overrides = mb.SMOKE_OVERRIDES if smoke else {}
    vers = mb.versions(VERSION_PACKAGES)
    say(f"{gpu['name']}; shape {shape_name}; batch {batch} × seq {seq}; {steps} steps ({warmup} of warm-up); "
        f"{len(plan)} runs + {len(base_methods)} baseline runs")
    say("versions: " + ", ".join(f"{k} {v}" for k, v in vers.items() if v))

    model_dir = os.path.join(work, "model")
    shape_info = mb.build_model(a.shape, model_dir, overrides=overrides, dtype=dtype, seq=seq)
    say(f"random-initialised {shape_info['parameters']:,} parameters from {mb._rel(a.shape)} in {time.time() - t0:.1f} s")
    train_path = os.path.join(work, "train.jsonl")
    rows_n = batch * steps
    shortest = mb.write_dataset(train_path, model_dir, rows=rows_n, seq=seq)
    dataset_note = (f"synthetic: {rows_n} rows of random words, each {shortest}+ tokens (built-in tokenizer), "
                    f"truncated to {seq} (bench/gpu_train_bench.py)")
    with open(os.path.join(a.shape, "config.json"), encoding="utf-8") as f:
        shape_config = {**json.load(f), **overrides}
    fallback = flops_fallback(shape_config, seq, None if smoke else gpu["name"], dtype)

    def make_run(m: str, b: str, parent: str, name: str) -> tuple[str, str, dict]:
        run_dir = os.path.join(parent, name)
        if os.path.exists(run_dir):
            say(f"replacing {mb._rel(run_dir)}")
            shutil.rmtree(run_dir)
        os.makedirs(os.path.join(run_dir, "data"))
        shutil.copyfile(train_path, os.path.join(run_dir, "data", "train.jsonl"))
        spec = BACKENDS.get(b, {"backend": "peft", "knobs": {}})
        cfg = mb.run_config(m, model=model_dir, train=train_path, run_dir=mb._rel(run_dir), batch=batch, seq=seq,
                            steps=steps, device=device, dtype=dtype, backend=spec["backend"], knobs=spec["knobs"],
                            probe_memory=not smoke, lora=spec.get("lora"))  # the CPU memory probe's step would count in the wall clock
        with open(os.path.join(run_dir, "config.json"), "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2)
        return run_dir, b, cfg

    os.makedirs(out, exist_ok=True)
    base_runs = [(m, *make_run(m, PLAIN_LABEL, os.path.join(work, "plain"), m)) for m in base_methods]
    runs = [(m, *make_run(m, b, out, f"gpu-{gpu['slug']}-{shape_name}-{m}-{b.replace('+', '-')}")) for m, b in plan]
    labels = {cfg["runDir"]: f"{m} {b}" for m, _, b, cfg in base_runs + runs}

    log_path = os.path.abspath(a.log) if a.log else os.path.join(work, "trainer-stderr.log")
    command = "python bench/gpu_train_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    per_run = a.processes == "per-run"
    groups = [(PLAIN, [r]) for r in base_runs] if per_run else ([(PLAIN, base_runs)] if base_runs else [])
    for b in backends:
        mine = [r for r in runs if r[2] == b]
        groups += [(mb.TRAINER, [r]) for r in mine] if per_run else ([(mb.TRAINER, mine)] if mine else [])
    pythons = {b: a.unsloth_python if BACKENDS[b]["backend"] == "unsloth" else sys.executable for b in backends}
    vers_of = {py: vers if py == sys.executable else versions_of(py) for py in set(pythons.values())}
    table, baseline, failed = [], {}, False
    with open(log_path, "a", encoding="utf-8") as log:
        for script, group in groups:
            log.write(f"\n==== {os.path.basename(script)}: {', '.join(f'{m} {b}' for m, _, b, _ in group)} ====\n")
            log.flush()
            python = sys.executable if script == PLAIN else pythons[group[0][2]]
            rc = mb.run_trainer([os.path.join(d, "config.json") for _, d, _, _ in group], log=log,
                                timeout=a.timeout * len(group), labels=labels, script=script, python=python)
            if rc != 0:
                say(f"{os.path.basename(script)} exited with code {rc} ({', '.join(f'{m} {b}' for m, _, b, _ in group)})")
            date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
            for m, run_dir, b, _ in group:
                if script == PLAIN:
                    meas = measure(run_dir, warmup=warmup, batch=batch, seq=seq, flops_fallback=fallback)
                    baseline[m] = meas
                    failed |= meas["status"] != "done"
                    table.append({"method": m, "backend": b, "m": meas, "ratio": 1.0 if meas["tokensPerSecond"] else None})
                    continue
                mb.finish_run(run_dir, shape_rel=mb._rel(a.shape), model_note={"dataset": dataset_note},
                              recorded={}, rc=rc, timeout=a.timeout * len(group))
                meas = measure(run_dir, warmup=warmup, batch=batch, seq=seq, flops_fallback=fallback)
                base = baseline.get(m, {}).get("tokensPerSecond")
                ratio = meas["tokensPerSecond"] / base if meas["tokensPerSecond"] and base else None
                spec = BACKENDS[b]
                recorded = {
                    "schema": mb.RECORDED_SCHEMA,
                    "bench": "gpu_train_bench",
                    "gpu": {k: v for k, v in gpu.items() if k != "slug"},
                    "smoke": smoke,
                    "shape": shape_name,
                    "shapeConfig": mb._rel(os.path.join(a.shape, "config.json")),
                    "model": {"init": "random (torch seed 0), from the shape's config.json; no weights downloaded",
                              "dtype": dtype, "overrides": overrides, **shape_info},
                    "tokenizer": "data/models/ince-tiny (byte-level BPE, 1024 ids; eos 2, pad 0)",
                    "dataset": dataset_note,
                    "method": m,
                    "backend": b,
                    "engineBackend": spec["backend"],
                    "knobs": {k: v for k, v in spec["knobs"].items() if v},
                    "batchSize": meas["batchSize"],
                    "seqLength": seq,
                    "steps": steps,
                    "warmupSteps": warmup,
                    "device": device,
                    "throughput": {k: meas[k] for k in ("tokensPerSecond", "mfu", "flopsPerToken", "peakFlops",
                                                        "peakFlopsSource", "trainerTokensPerSecond", "trainerMfu",
                                                        "paddingFraction", "measuredSteps", "finalLoss")},
                    "baseline": None if base_methods == [] else {
                        "runner": "plain TRL + PEFT (bench/plain_trl_peft.py): same rows and settings, TRL's defaults",
                        "tokensPerSecond": base,
                        "peakAllocatedBytes": baseline.get(m, {}).get("peakAllocatedBytes"),
                        "status": baseline.get(m, {}).get("status"),
                        "finalLoss": baseline.get(m, {}).get("finalLoss"),
                    },
                    "ratioVsBaseline": ratio,
                    "versions": vers_of[python],
                    "interpreter": python,
                    "date": date,
                    "command": command.strip(),
                }
                with open(os.path.join(run_dir, "recorded.json"), "w", encoding="utf-8") as f:
                    json.dump(recorded, f, indent=2)
                    f.write("\n")
                failed |= meas["status"] != "done"
                warn = check_knobs(b, meas)
                if warn:
                    say(f"warning: {warn}")
                table.append({"method": m, "backend": b, "m": meas, "ratio": ratio, "runDir": run_dir})

    # DoRA's time per token over LoRA's, within a backend (qdora over qlora).
    tps = {(r["method"], r["backend"]): r["m"]["tokensPerSecond"] for r in table}
    for r in table:
        pair = {"dora": "lora", "qdora": "qlora"}.get(r["method"])
        lo, do = tps.get((pair, r["backend"])), r["m"]["tokensPerSecond"]
        r["doraTime"] = lo / do if pair and lo and do else None
    order = {m: i for i, m in enumerate(METHODS)}
    border = {b: i for i, b in enumerate([PLAIN_LABEL, *BACKENDS])}
    table.sort(key=lambda r: (order[r["method"]], border[r["backend"]]))
    print_table(table, f"{gpu['name']} · {shape_name} · batch {batch} × seq {seq} · {dtype} · LoRA r16 all-linear · "
                       f"{steps} steps, tokens/s over the last {steps - warmup}")
    for line in goal_lines(table, smoke):
        print(line)
    print()
    for r in table:
        if r["m"]["error"]:
            say(f"{r['method']} {r['backend']}: {r['m']['error'][:300]}")
    if failed:
        with open(log_path, encoding="utf-8") as f_:
            print("\n".join(f_.read().splitlines()[-30:]), file=sys.stderr)
    shutil.rmtree(model_dir, ignore_errors=True)
    shutil.rmtree(os.path.join(work, "plain"), ignore_errors=True)
    os.remove(train_path)
    if not (out.startswith(work + os.sep) or log_path.startswith(work + os.sep) and failed):
        shutil.rmtree(work, ignore_errors=True)
    say(f"runs in {mb._rel(out)}" + (f"; trainer log {log_path}" if os.path.exists(log_path) else "") +
        f"; {time.time() - t0:.1f} s in all")
    return 1 if failed else 0


def versions_of(python: str) -> dict:
    """VERSION_PACKAGES as another interpreter has them (Unsloth's environment has its own torch and transformers)."""
    code = (f"import sys, json; sys.path.insert(0, {os.path.dirname(os.path.abspath(__file__))!r}); "
            f"import gpu_memory_bench as mb; print(json.dumps(mb.versions({VERSION_PACKAGES!r})))")
    try:
        out = subprocess.run([python, "-c", code], capture_output=True, text=True, timeout=120)
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return {"python": None}


# Unsloth's environment (requirements/unsloth.lock) is standalone, ≈ 4 GB with its own torch. For a bare GPU machine
# whose image already has a PyTorch that Unsloth accepts (< 2.15), only the rest travels, into <DIR>/unsloth: put it
# first on the path of the unsloth rows' interpreter (PYTHONPATH=<its site>:<the main site>). Left out: PyTorch and
# its CUDA/Triton/xformers wheels (built for one torch: the image's), and every package requirements/lock.txt pins at
# the same version (the main wheels or the image have it). That is still ≈ 69 MiB (unsloth's own wheel is 27 MiB):
# more than one device call carries beside the main wheels.
UNSLOTH_LEFT_OUT = re.compile(r"^(torch|torchvision|triton|xformers|nvidia-.*|cuda-.*)$")


def prepare_wheels(dest: str, *, with_unsloth: bool) -> int:
    """gpu_memory_bench's wheels plus Liger's; with `with_unsloth`, requirements/unsloth.lock's into DIR/unsloth."""
    code = mb.prepare_wheels(dest, (LIGER_PIN,))
    if code or not with_unsloth:
        return code
    lock = os.path.join(mb.ROOT, "requirements", "unsloth.lock")
    if not os.path.exists(lock):
        say("--with-unsloth: requirements/unsloth.lock does not exist; the unsloth rows will be skipped on that machine")
        return 0
    main = mb.lock_pins()
    pins = [f"{n}=={v}" for n, v in mb.lock_pins(lock).items() if not UNSLOTH_LEFT_OUT.match(n) and main.get(n) != v]
    return mb.prepare_wheels(os.path.join(dest, "unsloth"), tuple(pins), wheels=())


if __name__ == "__main__":
    try:
        sys.exit(main())
    except mb.BenchError as e:
        print(f"gpu_train_bench: {e}", file=sys.stderr)
        sys.exit(2)
