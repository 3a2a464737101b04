"""GPU training-memory bench: LoRA / QLoRA / DoRA / QDoRA / full fine-tune of a model *shape*, through the
real ince trainer, recorded so that a lesson can show the numbers on a CPU.

    .tools/venv/bin/python bench/gpu_memory_bench.py [--out data/runs]     # on a CUDA GPU
    .tools/venv/bin/python bench/gpu_memory_bench.py --smoke               # proves the script on a CPU
    .tools/venv/bin/python bench/gpu_memory_bench.py --prepare-wheels .whl # packages a bare GPU machine lacks

What it does, with nothing downloaded:
1. Builds a random-initialised model from `--shape` (default data/models/shapes/qwen2.5-0.5b/config.json, the real
   Qwen2.5-0.5B shape: 494,032,768 parameters) and saves it, in bf16, into a temporary folder. Memory does not
   depend on the weights' values, only on their shapes and dtypes.
2. Tokenizer: the built-in model's byte-level BPE (data/models/ince-tiny, 1024 ids, `<|im_end|>` = 2). Its ids are
   a subset of the 151,936 embedding rows, so the model is the full shape (embedding, tied output layer, logits
   over all 151,936 entries) while the text needs no Qwen tokenizer. The dataset is synthetic: random words,
   every row longer than `--seq` tokens, so that the trainer's truncation makes each batch exactly batch × seq.
3. Writes one run config per method, exactly as `parseRunConfig` (lib/train/run_config.ts) fills it (LoRA r16,
   α 32, dropout 0.05, all-linear, AdamW, no gradient checkpointing, `probeMemory`), and runs
   lib/train/python/trainer.py on it: one trainer process per run (each run starts from an empty allocator, so
   the order of the methods cannot change a peak), or all in one with `--processes one`.
4. Keeps each run as `<out>/gpu-<gpu-slug>-<shape>-<method>/`: the trainer's config.json (its `model` and
   `dataset.train` rewritten to say what they were: the shape folder and the synthetic data), its events.jsonl,
   and recorded.json (GPU name, memory, driver, CUDA, package versions, date, command). The adapter or model the
   trainer saved is deleted: a recorded run ships its numbers, not weights.
5. Prints a table: the allocator peak (`torch.cuda.max_memory_allocated`, the trainer's `end.peak_allocated_bytes`),
   the trainer's `seconds_per_step`, the wall-clock seconds between step events (steps 2…N, which include the GPU
   synchronisation of the loss logging), and tokens/s.

`--smoke` runs the same path on a CPU: a tiny shape of the same architecture (2 layers, hidden 64, vocab 2048),
quant-free methods only (lora, dora, full), batch 2 × seq 64, 3 steps, float32, into a temporary folder (never
into data/runs), in one trainer process. tests/recorded_gpu_runs_test.ts runs it and reads the folders back with
`listRecordedGpuRuns`.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TRAINER = os.path.join(ROOT, "lib", "train", "python", "trainer.py")
TOKENIZER_DIR = os.path.join(ROOT, "data", "models", "ince-tiny")
TOKENIZER_FILES = ("tokenizer.json", "chat_template.jinja")
DEFAULT_SHAPE = os.path.join(ROOT, "data", "models", "shapes", "qwen2.5-0.5b")
RECORDED_SCHEMA = "ince.recorded-gpu-run/1"

# The method words of the lesson, as run-config fields (lib/train/run_config.ts METHOD_PRESETS).
METHODS = {
    "lora": {"adapter": "lora", "quant": "none"},
    "qlora": {"adapter": "lora", "quant": "nf4"},
    "dora": {"adapter": "dora", "quant": "none"},
    "pissa": {"adapter": "lora", "quant": "none", "init": "pissa"},
    "qdora": {"adapter": "dora", "quant": "nf4"},
    "full": {"adapter": "lora", "quant": "none", "fullFineTune": True},
}
# What this bench measures by default (bench/gpu_train_bench.py measures pissa too).
DEFAULT_METHODS = ("lora", "qlora", "dora", "qdora", "full")
# The throughput settings of the run config (train.*), all off unless a caller turns them on.
KNOBS = ("liger", "paddingFree", "packing", "compile", "autoBatchSize")
# The smoke test's shape: the same architecture as --shape, small enough for a 2-core CPU.
SMOKE_OVERRIDES = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                   "num_key_value_heads": 2, "vocab_size": 2048, "max_window_layers": 2}
# What a bare GPU machine lacks for the trainer (its image has torch, accelerate, tokenizers, huggingface_hub,
# safetensors, pyarrow, pandas, xxhash): these travel as wheels at the versions of requirements/lock.txt.
WHEELS = ("bitsandbytes", "transformers", "peft", "trl", "datasets", "dill", "multiprocess")
# bitsandbytes' wheel bundles one library per CUDA/ROCm/XPU version (43 MB); a GPU machine needs the one that
# matches torch.version.cuda ("13.0" -> cuda130). --prepare-wheels keeps these and the CPU one.
BNB_KEEP = ("cpu", "cuda130", "cuda132")
PIP_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64",
                 "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64")


def say(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


class BenchError(Exception):
    pass


def run_config(method: str, *, model: str, train: str, run_dir: str, batch: int, seq: int, steps: int,
               device: str, dtype: str, backend: str = "peft", knobs: dict | None = None,
               probe_memory: bool = True, lora: dict | None = None) -> dict:
    """A run config with every field `parseRunConfig` fills (tests check that parsing it changes nothing).
    `knobs` turns on throughput settings (KNOBS, e.g. {"liger": True}); `backend` is "peft" or "unsloth"."""
    m = METHODS[method]
    knobs = knobs or {}
    unknown = [k for k in knobs if k not in KNOBS]
    if unknown:
        raise BenchError(f"unknown throughput setting {', '.join(unknown)}; use some of {', '.join(KNOBS)}")
    return {
        "model": model,
        "dataset": {"train": train},
        "method": method,
        "peftType": "lora",
        "optimizer": {"name": "adamw", "loraplusLrRatio": 16},
        "fullFineTune": bool(m.get("fullFineTune", False)),
        "backend": backend,
        "stage": "sft",
        "lora": {"r": 16, "alpha": 32, "dropout": 0.05, "targetModules": "all-linear", "pissaNiter": 4, **(lora or {})},
        "prompt": {"virtualTokens": 20},
        "train": {"maxSteps": steps, "batchSize": batch, "gradAccum": 1, "lr": 2e-4, "schedule": "cosine",
                  "warmupSteps": 0, "maxLength": seq, "gradientCheckpointing": False,
                  **{k: bool(knobs.get(k, False)) for k in KNOBS}, "seed": 42, "logEvery": 1,
                  "evalEvery": 0, "saveEvery": 0, "saveMinutes": 0, "keepCheckpoints": 2, "dpoBeta": 0.1,
                  "probeMemory": probe_memory},
        "eval": {"exactMatch": True, "maxExamples": 64},
        "device": device,
        "dtype": dtype,
        "launcher": {"kind": "python", "nproc": 1},
        "resume": False,
        "runDir": run_dir,
        "adapter": m["adapter"],
        "init": m.get("init", "default"),
        "scaling": "standard",
        "quant": m["quant"],
    }


def build_model(shape_dir: str, out_dir: str, *, overrides: dict, dtype: str, seq: int) -> dict:
    """Saves a random-initialised model of the shape (seed 0) with the built-in tokenizer; returns its config."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.utils import logging as hf_logging
    hf_logging.disable_progress_bar()
    # The built-in tokenizer's special ids (the Qwen ids 151643… would never occur in its text).
    with open(os.path.join(shape_dir, "config.json"), encoding="utf-8") as f:
        fields = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    fields.update(overrides, bos_token_id=None, eos_token_id=2, pad_token_id=0)
    config = AutoConfig.for_model(**fields)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, dtype))
    params = sum(p.numel() for p in model.parameters())
    model.save_pretrained(out_dir)
    del model
    for name in TOKENIZER_FILES:
        shutil.copy(os.path.join(TOKENIZER_DIR, name), out_dir)
    with open(os.path.join(TOKENIZER_DIR, "tokenizer_config.json"), encoding="utf-8") as f:
        tok_cfg = json.load(f)
    tok_cfg["model_max_length"] = max(seq * 8, tok_cfg.get("model_max_length", 0))
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(tok_cfg, f, indent=2)
    return {"parameters": params, **{k: getattr(config, k) for k in (
        "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
        "vocab_size", "tie_word_embeddings")}}


def write_dataset(path: str, model_dir: str, *, rows: int, seq: int, seed: int = 0) -> int:
    """Rows of random words whose chat-formatted text is longer than `seq` tokens; returns the shortest length."""
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.model_max_length = 10**9  # the rows are longer than seq on purpose
    rnd = random.Random(seed)
    words = ["".join(rnd.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rnd.randint(2, 8))) for _ in range(500)]
    shortest = None
    with open(path, "w", encoding="utf-8") as f:
        for _ in range(rows):
            n = max(8, seq)  # ~5 tokens a word with this tokenizer: far more than seq, cut below
            text = " ".join(rnd.choice(words) for _ in range(n))
            prompt = [{"role": "user", "content": "Continue the list."}]
            while True:
                msgs = prompt + [{"role": "assistant", "content": text}]
                ids = tok.apply_chat_template(msgs, tokenize=True, return_dict=True)["input_ids"]
                if len(ids) <= seq + 32 or len(text) < 16:
                    break
                text = text[: int(len(text) * (seq + 16) / len(ids))].rstrip()
            if len(ids) <= seq:
                raise BenchError(f"dataset row of {len(ids)} tokens is not longer than --seq {seq}; this is a bench bug")
            shortest = len(ids) if shortest is None else min(shortest, len(ids))
            f.write(json.dumps({"prompt": msgs[:-1], "completion": msgs[-1:]}) + "\n")  # the trainer's canonical rows
    return shortest


def gpu_info(smoke: bool) -> dict:
    import torch
    if smoke or not torch.cuda.is_available():
        return {"name": "cpu (smoke test, not a GPU)", "slug": "cpu", "totalMemoryBytes": None, "driver": None,
                "cuda": None, "capability": None}
    p = torch.cuda.get_device_properties(0)
    name = torch.cuda.get_device_name(0)
    driver = None
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30)
        driver = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else None
    except (OSError, subprocess.SubprocessError):
        pass
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower().replace("nvidia", "")).strip("-") or "gpu"
    return {"name": name, "slug": slug, "totalMemoryBytes": int(p.total_memory), "driver": driver,
            "cuda": torch.version.cuda, "capability": f"{p.major}.{p.minor}"}


VERSION_PACKAGES = ("torch", "transformers", "peft", "trl", "datasets", "accelerate", "bitsandbytes")


def versions(names: tuple[str, ...] = VERSION_PACKAGES) -> dict:
    """Python's and each package's installed version (None: not installed)."""
    out = {"python": sys.version.split()[0]}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def run_trainer(config_paths: list[str], *, log, timeout: float, labels: dict, script: str = TRAINER,
                python: str = sys.executable) -> int:
    """One trainer process over the configs; progress on stdout, its stderr appended to `log`. Like
    lib/train/train_run.ts, this is the one writer of each run's events.jsonl (the trainer only prints).
    `script` is another program printing the same events (bench/plain_trl_peft.py, the baseline); `python` another
    interpreter (Unsloth's own environment)."""
    run_dirs = [os.path.dirname(p) for p in config_paths]
    at = 0
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TOKENIZERS_PARALLELISM": "false",
           "HF_HUB_DISABLE_PROGRESS_BARS": "1", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    proc = subprocess.Popen([python, script, *config_paths], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    timer = threading.Timer(timeout, proc.kill)
    timer.start()
    try:
        for line in proc.stdout:
            try:
                e = json.loads(line)
            except json.JSONDecodeError:
                continue
            if at < len(run_dirs):
                with open(os.path.join(run_dirs[at], "events.jsonl"), "a", encoding="utf-8") as f:
                    f.write(line if line.endswith("\n") else line + "\n")
                if e.get("event") in ("end", "error"):
                    at += 1
            who = labels.get(e.get("runDir"), labels.get("_current", "?"))
            if e.get("event") == "start":
                labels["_current"] = who = labels.get(e.get("runDir"), who)
                say(f"{who}: started ({e['trainableParams']:,} trainable of {e['totalParams']:,}, {e['dtype']})")
            elif e.get("event") == "step":
                alloc = e.get("peakAllocatedBytes")
                say(f"{who}: step {e['step']} loss {e['loss']:.3f}" + (f" peak {alloc / 2**30:.2f} GiB" if alloc else ""))
            elif e.get("event") in ("end", "error"):
                say(f"{who}: {e['event']}" + (f" ({e['kind']}: {e['message']})" if e["event"] == "error" else ""))
        return proc.wait()
    finally:
        timer.cancel()


def summarize(run_dir: str, batch: int, seq: int) -> dict:
    """The numbers of one finished run folder, from its events (protocol 2, camelCase; the loader in TS
    computes the same)."""
    events = []
    with open(os.path.join(run_dir, "events.jsonl"), encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    end = next((e for e in events if e["event"] == "end"), None)
    err = next((e for e in events if e["event"] == "error"), None)
    steps = [e for e in events if e["event"] == "step"]
    start = next((e for e in events if e["event"] == "start"), {})
    gaps = [b["time"] - a["time"] for a, b in zip(steps, steps[1:])]
    wall = statistics.median(gaps) if gaps else None
    tokens = steps[-1].get("tokens") if steps else None
    per_step = tokens / steps[-1]["step"] if tokens else batch * seq
    return {
        "status": "done" if end else (f"failed ({err['kind']})" if err else "no end"),
        "peak": end.get("peakAllocatedBytes") if end else None,
        "sps": end.get("secondsPerStep") if end else None,
        "wall": wall,
        "tokens_per_step": per_step,
        "tps": per_step / wall if wall else None,
        "trainable": start.get("trainableParams"),
        "error": err["message"] if err else None,
    }


def finish_run(run_dir: str, *, shape_rel: str, model_note: dict, recorded: dict, rc: int, timeout: float) -> None:
    """Deletes what the trainer saved (and trainer_args.json), rewrites the temporary paths in config.json, writes
    recorded.json, and closes the events of a run whose process died without reporting (as lib/train/train_run.ts
    does)."""
    events_path = os.path.join(run_dir, "events.jsonl")
    text = open(events_path, encoding="utf-8").read() if os.path.exists(events_path) else ""
    if '"event": "end"' not in text and '"event": "error"' not in text:
        how = f"exited with code {rc}" if rc >= 0 else f"was killed by signal {-rc} (bench --timeout {timeout:.0f} s?)"
        event = {"event": "error", "protocol": 2, "time": round(time.time(), 3), "kind": "runtime",
                 "message": f"The trainer process {how} before this run reported its end.",
                 "hint": "See the trainer log (bench --log); raise --timeout if the run was just slow."}
        with open(events_path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")
    for sub in ("adapter", "model", "checkpoints", "initial_adapter", "data"):
        shutil.rmtree(os.path.join(run_dir, sub), ignore_errors=True)
    # TRL's whole args object (temporary paths included); the knobs it held are in the end event's engineArgs.
    if os.path.exists(os.path.join(run_dir, "trainer_args.json")):
        os.remove(os.path.join(run_dir, "trainer_args.json"))
    path = os.path.join(run_dir, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["model"] = shape_rel
    cfg["dataset"]["train"] = model_note["dataset"]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(run_dir, "recorded.json"), "w", encoding="utf-8") as f:
        json.dump(recorded, f, indent=2)
        f.write("\n")


def _rel(path: str) -> str:
    p = os.path.abspath(path)
    return os.path.relpath(p, ROOT) if p.startswith(ROOT + os.sep) else p


def lock_pins(path: str = os.path.join(ROOT, "requirements", "lock.txt")) -> dict:
    """{normalised name: version} of a pip lock file's `name==version` lines."""
    with open(path, encoding="utf-8") as f:
        pins = dict(re.match(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", line).groups() for line in f
                    if re.match(r"^[A-Za-z0-9_.-]+==", line))
    return {k.lower().replace("_", "-"): v for k, v in pins.items()}


def prepare_wheels(dest: str, extra: tuple[str, ...] = (), wheels: tuple[str, ...] = WHEELS) -> int:
    """Downloads `wheels` at the lock's versions for a Python 3.12 x86-64 machine and trims bitsandbytes.
    `extra`: more pinned requirements ("liger-kernel==0.8.5"), downloaded the same way."""
    norm = lock_pins()
    missing = [w for w in wheels if w not in norm]
    if missing:
        raise BenchError(f"requirements/lock.txt pins no version of {', '.join(missing)}; add them to the lock first")
    os.makedirs(dest, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--python-version", "3.12",
           "--implementation", "cp", *[x for p in PIP_PLATFORMS for x in ("--platform", p)], "-d", dest,
           *[f"{w}=={norm[w]}" for w in wheels], *extra]
    say(" ".join(cmd))
    if subprocess.run(cmd).returncode != 0:
        raise BenchError("pip download failed (see above); the wheels are needed only on a bare GPU machine")
    for name in os.listdir(dest):
        if name.startswith("bitsandbytes-") and name.endswith(".whl"):
            src = os.path.join(dest, name)
            tmp = src + ".tmp"
            with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
                for item in zin.infolist():
                    m = re.search(r"libbitsandbytes_([a-z0-9]+)\.(so|dll|dylib)$", item.filename)
                    if m and m.group(1) not in BNB_KEEP:
                        continue
                    zout.writestr(item, zin.read(item.filename))
            os.replace(tmp, src)
    total = 0
    for name in sorted(os.listdir(dest)):
        size = os.path.getsize(os.path.join(dest, name))
        total += size
        say(f"{name}  {size / 2**20:.1f} MiB")
    say(f"{total / 2**20:.1f} MiB of wheels in {dest} (a device call carries at most 64 MiB with the working tree)")
    return 0


def preflight(methods: list[str], smoke: bool) -> None:
    import torch
    if not smoke and not torch.cuda.is_available():
        raise BenchError("PyTorch sees no CUDA GPU: run this on a GPU machine, or pass --smoke to prove it on a CPU")
    need = ["transformers", "peft", "trl", "datasets"] + (["bitsandbytes"] if any(METHODS[m]["quant"] == "nf4" for m in methods) else [])
    broken = []
    for name in need:
        try:
            importlib.import_module(name)
        except Exception as e:  # noqa: BLE001 — a missing or mismatched package, said in one line
            broken.append(f"{name} ({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
    if broken:
        raise BenchError(f"cannot import {'; '.join(broken)}. Carry the packages as wheels: see "
                         "scratch/gpu_readme_snippet.md (README, 'Recording GPU runs')")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--smoke", action="store_true", help="CPU proof run: tiny shape, quant-free methods, temp folder")
    ap.add_argument("--out", help="folder of recorded runs (default data/runs; --smoke: a new temp folder)")
    ap.add_argument("--shape", default=DEFAULT_SHAPE, help="a config-only model folder (default %(default)s)")
    ap.add_argument("--methods", help="comma list of " + ",".join(METHODS) + " (default " + ",".join(DEFAULT_METHODS)
                    + "; --smoke: lora,dora,full)")
    ap.add_argument("--batch", type=int, help="batch size (default 16; --smoke 2)")
    ap.add_argument("--seq", type=int, help="tokens per example (default 512; --smoke 64)")
    ap.add_argument("--steps", type=int, help="optimizer steps (default 6; --smoke 3)")
    ap.add_argument("--processes", choices=("per-run", "one"),
                    help="a trainer process per run (default; each starts from an empty allocator) or one for all "
                         "(default for --smoke: Python and torch start once)")
    ap.add_argument("--timeout", type=float, default=240, help="seconds one trainer process may take (default %(default)s)")
    ap.add_argument("--log", help="append the trainer's stderr here (default: a temp file, its tail printed on failure)")
    ap.add_argument("--prepare-wheels", metavar="DIR", help="download the wheels a bare GPU machine lacks into DIR and stop")
    a = ap.parse_args(argv)
    if a.prepare_wheels:
        return prepare_wheels(a.prepare_wheels)

    t0 = time.time()
    smoke = a.smoke
    methods = (a.methods or ("lora,dora,full" if smoke else ",".join(DEFAULT_METHODS))).split(",")
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise BenchError(f"--methods: {', '.join(bad)} unknown; use some of {', '.join(METHODS)}")
    if smoke and any(METHODS[m]["quant"] != "none" for m in methods):
        raise BenchError("--smoke runs on a CPU, where NF4 (bitsandbytes training) is unavailable: drop qlora/qdora")
    batch, seq, steps = a.batch or (2 if smoke else 16), a.seq or (64 if smoke else 512), a.steps or (3 if smoke else 6)
    if smoke and a.out and (os.path.abspath(a.out) + os.sep).startswith(os.path.join(ROOT, "data", "runs") + os.sep):
        raise BenchError(f"--out {a.out}: a smoke run must not write into data/runs (recorded GPU runs live there)")
    preflight(methods, smoke)
    work = tempfile.mkdtemp(prefix="ince-gpu-bench-")
    out = os.path.abspath(a.out or (os.path.join(work, "runs") if smoke else os.path.join(ROOT, "data", "runs")))
    device, dtype = ("cpu", "float32") if smoke else ("cuda", "bfloat16")
    gpu = gpu_info(smoke)
    shape_name = os.path.basename(os.path.normpath(a.shape)) + ("-smoke" if smoke else "")
    overrides = SMOKE_OVERRIDES if smoke else {}
    say(f"{gpu['name']}; shape {shape_name}; methods {', '.join(methods)}; batch {batch} × seq {seq}; {steps} steps")
    say("versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()))

    model_dir = os.path.join(work, "model")
    shape_info = build_model(a.shape, model_dir, overrides=overrides, dtype=dtype, seq=seq)
    say(f"random-initialised {shape_info['parameters']:,} parameters from {_rel(a.shape)} in {time.time() - t0:.1f} s")
    train_path = os.path.join(work, "train.jsonl")
    rows = batch * steps
    shortest = write_dataset(train_path, model_dir, rows=rows, seq=seq)
    dataset_note = (f"synthetic: {rows} rows of random words, each {shortest}+ tokens (built-in tokenizer), "
                    f"truncated to {seq} (bench/gpu_memory_bench.py)")

    runs = []
    os.makedirs(out, exist_ok=True)
    for m in methods:
        run_dir = os.path.join(out, f"gpu-{gpu['slug']}-{shape_name}-{m}")
        if os.path.exists(run_dir):
            say(f"replacing {_rel(run_dir)}")
            shutil.rmtree(run_dir)
        os.makedirs(os.path.join(run_dir, "data"))
        shutil.copyfile(train_path, os.path.join(run_dir, "data", "train.jsonl"))
        cfg = run_config(m, model=model_dir, train=train_path, run_dir=_rel(run_dir), batch=batch, seq=seq,
                         steps=steps, device=device, dtype=dtype)
        with open(os.path.join(run_dir, "config.json"), "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2)
        runs.append((m, run_dir, cfg))

    log_path = os.path.abspath(a.log) if a.log else os.path.join(work, "trainer-stderr.log")
    labels = {cfg["runDir"]: m for m, _, cfg in runs}
    groups = [runs] if (a.processes or ("one" if smoke else "per-run")) == "one" else [[r] for r in runs]
    command = "python bench/gpu_memory_bench.py " + " ".join(argv if argv is not None else sys.argv[1:])
    vers = versions()
    table, failed = [], False
    with open(log_path, "a", encoding="utf-8") as log:
        for group in groups:
            log.write(f"\n==== {', '.join(m for m, _, _ in group)} ====\n")
            log.flush()
            rc = run_trainer([os.path.join(d, "config.json") for _, d, _ in group], log=log,
                             timeout=a.timeout * len(group), labels=labels)
            if rc != 0:
                say(f"the trainer exited with code {rc} ({', '.join(m for m, _, _ in group)})")
            # Each run is finished as soon as its process ends, so a bench stopped later keeps it whole.
            date = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
            for m, run_dir, _ in group:
                recorded = {
                    "schema": RECORDED_SCHEMA,
                    "gpu": {k: v for k, v in gpu.items() if k != "slug"},
                    "smoke": smoke,
                    "shape": shape_name,
                    "shapeConfig": _rel(os.path.join(a.shape, "config.json")),
                    "model": {"init": "random (torch seed 0), from the shape's config.json; no weights downloaded",
                              "dtype": dtype, "overrides": overrides, **shape_info},
                    "tokenizer": "data/models/ince-tiny (byte-level BPE, 1024 ids; eos 2, pad 0)",
                    "dataset": dataset_note,
                    "method": m,
                    "batchSize": batch,
                    "seqLength": seq,
                    "steps": steps,
                    "device": device,
                    "versions": vers,
                    "date": date,
                    "command": command.strip(),
                }
                finish_run(run_dir, shape_rel=_rel(a.shape), model_note={"dataset": dataset_note}, recorded=recorded,
                           rc=rc, timeout=a.timeout * len(group))
                s = summarize(run_dir, batch, seq)
                failed |= s["status"] != "done"
                table.append((m, s, run_dir))

    print()
    print(f"{gpu['name']} · {shape_name} · batch {batch} × seq {seq} · {dtype} · LoRA r16 all-linear · {steps} steps")
    head = ("method", "status", "peak alloc GiB", "trainer s/step", "wall s/step", "tokens/s", "trainable")
    print("| " + " | ".join(head) + " |")
    print("|" + "|".join("---" for _ in head) + "|")
    f = lambda x, fmt: "—" if x is None else format(x, fmt)  # noqa: E731
    for m, s, _ in table:
        print(f"| {m} | {s['status']} | {f(s['peak'] and s['peak'] / 2**30, '.2f')} | {f(s['sps'], '.3f')} | "
              f"{f(s['wall'], '.3f')} | {f(s['tps'], ',.0f')} | {f(s['trainable'], ',')} |")
    print()
    for m, s, run_dir in table:
        if s["error"]:
            say(f"{m}: {s['error'][:300]}")
    if failed:
        with open(log_path, encoding="utf-8") as f_:
            print("\n".join(f_.read().splitlines()[-30:]), file=sys.stderr)
    shutil.rmtree(model_dir, ignore_errors=True)
    os.remove(train_path)
    keep = out.startswith(work + os.sep) or log_path.startswith(work + os.sep) and failed
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    say(f"runs in {_rel(out)}" + (f"; trainer log {log_path}" if os.path.exists(log_path) else "") +
        f"; {time.time() - t0:.1f} s in all")
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        print(f"gpu_memory_bench: {e}", file=sys.stderr)
        sys.exit(2)
