"""ince's trainer process: one JSON run config in, one JSON event per line out (protocol 2).

The training itself is done by the real engines: transformers + PEFT (LoRA and its axes — DoRA,
PiSSA/OLoRA/Gaussian init, rsLoRA, NF4 base, LoRA+ — AdaLoRA, IA3, prompt/P-/prefix tuning) + TRL
(SFT, DPO), or a full fine-tune. This file only wires them together and reports.

  python trainer.py RUN_DIR/config.json [RUN_DIR2/config.json ...]
Several configs run one after another in this one process (Python and PyTorch start once; each run
still gets its own seed, folder and events). Events go to stdout only: the TypeScript runner validates
them and is the one writer of RUN_DIR/events.jsonl. Human logs go to stderr. With torchrun, only rank 0
reports. The training rows are read from RUN_DIR/data/{train,eval}.jsonl, written by TypeScript's dataset
loader (lib/data) in canonical form: {prompt, completion} chat rows, or {prompt, chosen, rejected} for DPO.
The throughput settings (`train.liger`, `paddingFree`, `packing`, `compile`, `autoBatchSize`) go to TRL's args as they
are and are read back into the `end` event (`engineArgs`, and the run folder's trainer_args.json); `backend: "unsloth"`
loads the model through unsloth_backend.py instead of transformers + PEFT. Every step reports tokens and positions fed;
`end` reports the measured tokens/s, FLOPs per token and MFU (flops.py).
A checkpoint is saved every `train.saveMinutes` minutes (and every `train.saveEvery` steps when set); the
newest `train.keepCheckpoints` (default 2) are kept. SIGINT (or SIGTERM) saves a checkpoint, emits
`error{kind: interrupted}`, skips the remaining configs and exits 0; `resume: true` continues from the
last checkpoint.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import sys
import time
import traceback

# Protocol 2: field names are camelCase, like the run config and everything else TS sees (protocol 1
# wrote snake_case; lib/train/events.ts still reads recorded protocol-1 runs).
PROTOCOL = 2
RANK = int(os.environ.get("RANK", "0"))
# stdout carries events only: keep a private handle to it and send everything else that libraries
# print (Trainer's log dicts, progress bars, C code writing to fd 1) to stderr.
_EVENTS_OUT = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr
_T0 = time.time()  # reset at the start of each run


def _finite(x):
    """JSON has no NaN/Infinity: a loss that is not a number is reported as null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_finite(v) for v in x]
    return x


def camel(name: str) -> str:
    """`peak_memory_bytes` → `peakMemoryBytes`, `lora_A` → `loraA` (the events' field names)."""
    head, *rest = name.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def emit(event: str, **fields) -> None:
    """One event to stdout and to the current run's events.jsonl. Field names are written here in
    Python's snake_case and sent camelCase; the keys of records (module names, metric names, package
    versions, PEFT's own config) are data and stay as they are."""
    if RANK != 0:
        return
    fields = {camel(k): v for k, v in fields.items()}
    if "optimizerGroups" in fields and fields["optimizerGroups"]:
        fields["optimizerGroups"] = [{camel(k): v for k, v in g.items()} for g in fields["optimizerGroups"]]
    line = json.dumps(_finite({"event": event, "protocol": PROTOCOL, "time": round(time.time(), 3), **fields}), allow_nan=False)
    _EVENTS_OUT.write(line + "\n")
    _EVENTS_OUT.flush()


def log(msg: str) -> None:
    if RANK == 0:
        print(f"[trainer] {msg}", file=sys.stderr, flush=True)


class ConfigError(Exception):
    pass


class DataError(Exception):
    pass


# The old single `method` word is a preset of the independent axes (lib/train/run_config.ts has the same table).
PRESETS = {
    "lora": {}, "dora": {"adapter": "dora"}, "pissa": {"init": "pissa"}, "olora": {"init": "olora"},
    "rslora": {"scaling": "rslora"}, "qlora": {"quant": "nf4"}, "qdora": {"adapter": "dora", "quant": "nf4"},
}
PEFT_TYPES = {"lora", "adalora", "ia3", "prompt_tuning", "p_tuning", "prefix_tuning"}
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def axes(cfg: dict) -> dict:
    """adapter/init/scaling/quant: explicit fields over the `method` preset over plain LoRA."""
    preset = PRESETS.get(cfg.get("method") or "lora", {})
    base = {"adapter": "lora", "init": "default", "scaling": "standard", "quant": "none"}
    return {k: cfg.get(k) or preset.get(k, v) for k, v in base.items()}


def check_config(cfg: dict) -> None:
    """The checks the TypeScript schema makes too, for configs written by hand."""
    def need(cond, field, msg):
        if not cond:
            raise ConfigError(f"field {field}: {msg}")
    method = cfg.get("method")
    need(method is None or method in PRESETS or all(cfg.get(k) for k in ("adapter", "init", "scaling", "quant")), "method",
         f"{method!r} is not one of {', '.join(PRESETS)}")
    need(cfg.get("peftType", "lora") in PEFT_TYPES, "peftType", f"{cfg.get('peftType')!r} is not one of {', '.join(sorted(PEFT_TYPES))}")
    need(cfg.get("stage") in ("sft", "dpo"), "stage", f"{cfg.get('stage')!r} is not sft or dpo")
    lora, train = cfg.get("lora", {}), cfg.get("train", {})
    need(isinstance(lora.get("r"), int) and lora["r"] >= 1, "lora.r", f"rank must be a whole number ≥ 1, got {lora.get('r')!r}")
    need(isinstance(train.get("lr"), (int, float)) and train["lr"] > 0, "train.lr", f"must be > 0, got {train.get('lr')!r}")
    need(isinstance(train.get("batchSize"), int) and train["batchSize"] >= 1, "train.batchSize", "must be ≥ 1")
    model = cfg.get("model", "")
    # lib/util/model_source.ts decided "local folder or Hub id?" and made local folders absolute: a path
    # must exist; anything else is a Hub id that transformers looks up in the shared cache.
    if os.path.isabs(model):
        need(os.path.isdir(model), "model", f"{model} does not exist; fix the path or download the model first (downloadModel)")


def read_rows(path: str, stage: str) -> list[dict]:
    """The canonical rows TypeScript wrote (lib/data validated the user's file and names its lines; a
    problem here means the run folder was edited or written by something else)."""
    keys = ("prompt", "chosen", "rejected") if stage == "dpo" else ("prompt", "completion")
    if not os.path.exists(path):
        raise DataError(f"{path}: no such file; start runs through trainRun (lib/train), which writes it")
    rows = []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise DataError(f"{path}:{i}: not valid JSON ({e.msg})") from None
            missing = [k for k in keys if not isinstance(row, dict) or k not in row]
            if missing:
                raise DataError(f"{path}:{i}: field \"{missing[0]}\" is missing (canonical {stage} rows have {', '.join(keys)})")
            rows.append({k: row[k] for k in keys})
    if not rows:
        raise DataError(f"{path}: no rows")
    return rows


def as_messages(x, role):
    return x if isinstance(x, list) else [{"role": role, "content": x}]


def peak_memory_bytes(device: str) -> int:
    """The compatibility field: the GPU allocator's peak, or on a CPU the process's peak RSS."""
    import torch
    if device == "cuda":
        return int(torch.cuda.max_memory_allocated())
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def rss_bytes() -> int:
    """The process's resident memory now (Linux /proc; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return peak_memory_bytes("cpu")


def peft_config_for(cfg: dict, model, total_steps: int):
    """The one place where the run config's axes become a PEFT config (None: full fine-tune)."""
    import peft
    if cfg.get("fullFineTune"):
        return None
    kind, ax, lora = cfg.get("peftType", "lora"), axes(cfg), cfg["lora"]
    targets = ALL_LINEAR if lora["targetModules"] == "all-linear" else lora["targetModules"]
    if kind == "lora":
        init = {"default": True, "gaussian": "gaussian", "olora": "olora",
                "pissa": f"pissa_niter_{lora.get('pissaNiter', 4)}"}[ax["init"]]
        return peft.LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"], target_modules=targets,
                               task_type="CAUSAL_LM", use_dora=ax["adapter"] == "dora", use_rslora=ax["scaling"] == "rslora",
                               init_lora_weights=init)
    if kind == "adalora":
        # AdaLoRA starts every matrix at 1.5 × the target rank (PEFT's own defaults are 12 → 8) and prunes
        # to the target average between tinit and total − tfinal (10 % and 20 % of the run here).
        t = max(total_steps, 3)
        return peft.AdaLoraConfig(target_r=lora["r"], init_r=max(lora["r"] + 1, round(1.5 * lora["r"])),
                                  lora_alpha=lora["alpha"], lora_dropout=lora["dropout"], target_modules=targets,
                                  task_type="CAUSAL_LM", total_step=t, tinit=t // 10, tfinal=t // 5, deltaT=1)
    if kind == "ia3":
        return peft.IA3Config(task_type="CAUSAL_LM")  # PEFT's own target/feed-forward modules for the architecture
    n = cfg.get("prompt", {}).get("virtualTokens", 20)
    if kind == "prompt_tuning":
        return peft.PromptTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=n)
    if kind == "p_tuning":
        return peft.PromptEncoderConfig(task_type="CAUSAL_LM", num_virtual_tokens=n,
                                        encoder_hidden_size=model.config.hidden_size)
    return peft.PrefixTuningConfig(task_type="CAUSAL_LM", num_virtual_tokens=n)


_PEFT_PARTS = {"weight", "bias", "default", "base_layer", "lora_A", "lora_B", "lora_E", "lora_magnitude_vector",
               "ia3_l", "modules_to_save", "original_module", "base_model", "model"}


def params_by_module(model) -> dict:
    """Trainable and total parameters per module type: q_proj (base weight + its adapter), embed_tokens, …"""
    out: dict = {}
    for name, p in model.named_parameters():
        parts = name.split(".")
        if parts[0] == "prompt_encoder":
            kind = "prompt_encoder"
        else:
            kind = next((x for x in reversed(parts) if x not in _PEFT_PARTS and not x.isdigit()), parts[-1])
        row = out.setdefault(kind, {"trainable": 0, "total": 0})
        row["total"] += p.numel()
        row["trainable"] += p.numel() if p.requires_grad else 0
    return out


def main() -> int:
    global _T0
    if len(sys.argv) < 2:
        print("usage: trainer.py RUN_DIR/config.json [RUN_DIR2/config.json ...]", file=sys.stderr)
        return 2
    interrupted = {"flag": False}

    def on_signal(signum, frame):  # noqa: ARG001
        if interrupted["flag"]:
            raise KeyboardInterrupt
        interrupted["flag"] = True
        log("interrupt received: saving a checkpoint at the end of this step")

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    code = 0
    for config_path in sys.argv[1:]:
        if interrupted["flag"]:
            break  # the caller reports the runs that never started
        with open(config_path, encoding="utf-8") as f:
            cfg = json.load(f)
        run_dir = cfg.get("runDir") or os.path.dirname(os.path.abspath(config_path))
        _T0 = time.time()
        log(f"run {run_dir}")
        try:
            code = max(code, run_one(cfg, run_dir, interrupted))
        finally:
            _free_memory()
    return code


def _free_memory() -> None:
    import gc
    gc.collect()
    if "torch" in sys.modules and sys.modules["torch"].cuda.is_available():
        sys.modules["torch"].cuda.empty_cache()


def run_one(cfg: dict, run_dir: str, interrupted: dict) -> int:
    try:
        return run(cfg, run_dir, interrupted)
    except ConfigError as e:
        emit("error", kind="config", message=str(e), hint="Fix the run config and start again.")
    except DataError as e:
        emit("error", kind="data", message=str(e), hint="Fix the dataset line named above (lib/data validates datasets too).")
    except Exception as e:  # noqa: BLE001
        import torch
        if isinstance(e, torch.OutOfMemoryError) or "out of memory" in str(e).lower():
            emit("error", kind="oom", message=str(e).split("\n")[0],
                 hint="Lower train.batchSize or train.maxLength, turn on train.gradientCheckpointing, or use quant nf4 on a GPU.")
        else:
            traceback.print_exc()
            emit("error", kind="runtime", message=f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                 hint="See stderr.log in the run folder for the traceback.")
    finally:
        if MemoryProbe.active is not None:  # a run that failed mid-step leaves the next one untracked
            MemoryProbe.active.end()
    return 1


class MemoryProbe:
    """On a CPU, torch has no allocator statistics: PyTorch's MemTracker (a dispatch mode that follows
    every tensor's storage) measures one steady-state optimizer step — the second, once AdamW's state
    exists — and reports its peak of live tensor bytes by category. On a GPU the allocator's own peak
    (torch.cuda.max_memory_allocated) covers the whole run."""

    def __init__(self, device: str, total_steps: int, enabled: bool = True):
        self.device, self.step = (device if enabled or device == "cuda" else "off"), (2 if total_steps >= 2 else 1)
        self.tracker, self.peak, self.breakdown = None, None, None

    active = None  # the probe whose tracker is entered, so a failed run can still leave it

    def begin(self, model, optimizer, step: int) -> None:
        if self.device != "cpu" or step + 1 != self.step:
            return
        from torch.distributed._tools.mem_tracker import MemTracker

        class _PeakOnly(MemTracker):
            # Only the global peak and its breakdown are reported, so MemTracker's per-module bookkeeping is
            # switched off: its module hooks hook every parameter's gradient (failing on frozen ones, an
            # adapter's base weights), refuse DPO's second root forward per step, and with the per-op walk
            # over modules made the probed step cost several normal steps (same breakdown without them).
            def _pre_fw_hook(self, *args):
                pass

            def _post_fw_hook(self, *args):
                pass

            def _pre_bw_hook(self, *args):
                pass

            def _post_bw_hook(self, *args):
                pass

            def _update_peak_stats(self, peak_state):  # noqa: ARG002
                for dev, snap in self._curr_mem_snap.items():
                    if self._peak_mem.get(dev, 0) < snap["Total"]:
                        self._peak_mem[dev] = snap["Total"]
                        self._peak_mem_snap[dev] = dict(snap)

        try:
            self.tracker = _PeakOnly()
            self.tracker.track_external(model, getattr(optimizer, "optimizer", optimizer))
            self.tracker.__enter__()
            MemoryProbe.active = self
        except Exception as e:  # noqa: BLE001 — a failed measurement must not fail the run
            log(f"memory probe off: {type(e).__name__}: {e}")
            self.tracker = None

    def end(self) -> bool:
        """Stops a running probe; True when this step was probed (its time is not a normal step's)."""
        if self.tracker is None:
            return False
        MemoryProbe.active = None
        self.tracker.__exit__(None, None, None)
        snap = next(iter(self.tracker.get_tracker_snapshot("peak").values()), {})
        names = {"PARAM": "parameters", "BUFFER": "buffers", "GRAD": "gradients", "ACT": "activations",
                 "TEMP": "temporaries", "OPT": "optimizer_state", "OTH": "other"}
        self.breakdown = {names.get(str(k).split(".")[-1], str(k)): int(v) for k, v in snap.items() if str(k) != "Total"}
        self.peak = int(snap.get("Total", sum(self.breakdown.values())))
        self.tracker = None
        return True

    def allocated(self):
        import torch
        if self.device == "cuda":
            return int(torch.cuda.max_memory_allocated()), "cuda"
        return self.peak, ("cpu-memtracker" if self.peak is not None else None)


def run(cfg: dict, run_dir: str, interrupted: dict) -> int:
    check_config(cfg)
    import torch
    backend = cfg.get("backend", "peft")
    want_device = cfg.get("device", "auto")
    if backend == "unsloth":
        # Unsloth patches transformers, TRL and PEFT when it is imported, so it comes before them.
        import unsloth_backend
        reason = unsloth_backend.unavailable_reason("cuda" if want_device != "cpu" and torch.cuda.is_available() else "cpu")
        if reason:
            raise ConfigError(f"field backend: {reason}")
        reason = unsloth_backend.check_config(cfg, axes(cfg))  # names its own field
        if reason:
            raise ConfigError(reason)
        import unsloth  # noqa: F401
    import transformers
    import peft
    import trl
    from datasets import Dataset
    from peft import get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback

    train_cfg, lora_cfg, eval_cfg = cfg["train"], cfg["lora"], cfg.get("eval", {})
    stage, ax, kind = cfg["stage"], axes(cfg), cfg.get("peftType", "lora")
    full, optim_cfg = bool(cfg.get("fullFineTune")), cfg.get("optimizer") or {"name": "adamw"}
    label = cfg.get("method") or "lora"
    want = cfg.get("device", "auto")
    device = "cuda" if (want == "cuda" or (want == "auto" and torch.cuda.is_available())) else "cpu"
    if want == "cuda" and not torch.cuda.is_available():
        raise ConfigError("field device: cuda was asked for but PyTorch sees no GPU (ROCm GPUs also show up as cuda)")
    if ax["quant"] == "nf4" and device != "cuda":
        raise ConfigError("field quant: nf4 quantizes the model to 4-bit NF4 with bitsandbytes, which needs a "
                          "CUDA or ROCm GPU; on this CPU use quant \"none\" (the built-in model is small enough)")
    if full and (ax["adapter"] != "lora" or ax["init"] != "default" or ax["quant"] != "none" or kind != "lora"):
        raise ConfigError("field fullFineTune: a full fine-tune has no adapter, init, quantization or PEFT type")
    if optim_cfg.get("name") == "loraplus" and (full or kind != "lora"):
        raise ConfigError("field optimizer.name: LoRA+ needs LoRA's A and B matrices (peftType lora, no fullFineTune)")
    if train_cfg.get("liger") and device != "cuda":
        raise ConfigError("field train.liger: Liger's kernels are Triton GPU kernels and this run is on the CPU; "
                          "leave train.liger off here (it is measured on a GPU: bench/gpu_train_bench.py)")
    if train_cfg.get("liger"):
        import importlib.util
        if importlib.util.find_spec("liger_kernel") is None:
            raise ConfigError("field train.liger: the liger-kernel package is not installed; run `deno task setup` "
                              "on this GPU machine (the cuda and rocm profiles install requirements/gpu.lock) or leave train.liger off")
    if (train_cfg.get("packing") or train_cfg.get("paddingFree")) and stage != "sft":
        raise ConfigError("field train.packing / train.paddingFree: SFT only (TRL's DPO trainer pads its batches; "
                          "it has padding-free batching switched off); leave them off for DPO")
    dtype_name = cfg.get("dtype", "auto")
    if dtype_name == "auto":
        dtype_name = "bfloat16" if device == "cuda" and torch.cuda.is_bf16_supported() else "float32"
    dtype = getattr(torch, dtype_name)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    # No torch.use_deterministic_algorithms: it cost ~30 % of the steps/s on CPU, and the CPU kernels
    # used here already repeat exactly (tests/train_test.ts: same seed ⇒ same loss curve).
    torch.manual_seed(train_cfg["seed"])

    train_rows = read_rows(os.path.join(run_dir, "data", "train.jsonl"), stage)
    eval_rows = read_rows(os.path.join(run_dir, "data", "eval.jsonl"), stage) if cfg["dataset"].get("eval") else []
    if stage == "dpo":
        conv = lambda r: {"prompt": as_messages(r["prompt"], "user"), "chosen": as_messages(r["chosen"], "assistant"),  # noqa: E731
                          "rejected": as_messages(r["rejected"], "assistant")}
        train_rows, eval_rows = [conv(r) for r in train_rows], [conv(r) for r in eval_rows]

    model_path = cfg["model"]
    quant = None
    if backend == "unsloth":
        # Unsloth loads the model (its patched classes) and adds the adapter itself (FastLanguageModel.get_peft_model).
        try:
            model, tokenizer = unsloth_backend.load(cfg, ax, dtype, train_cfg["maxLength"])
        except ValueError as e:
            raise ConfigError(str(e)) from None
    else:
        try:
            tokenizer = AutoTokenizer.from_pretrained(model_path)
        except OSError as e:
            raise ConfigError(f"field model: cannot load {model_path}: {str(e).splitlines()[0]}") from None
        if ax["quant"] == "nf4":
            from transformers import BitsAndBytesConfig
            quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                                       bnb_4bit_compute_dtype=dtype)
        model = AutoModelForCausalLM.from_pretrained(model_path, dtype=dtype, quantization_config=quant)
        if device == "cuda" and quant is None:
            model.to("cuda")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token

    # The same few training examples before and after wrapping: DoRA/PiSSA/LoRA must not change the
    # model at step 0 (PiSSA moves the principal part of W into the adapter, W_res + BA = W).
    def probe_loss(m) -> float:
        if stage != "sft":
            return None
        losses = []
        m.eval()
        with torch.no_grad():
            for r in train_rows[:4]:
                prompt = tokenizer.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=False)
                full_text = tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=False)
                p = tokenizer(prompt, add_special_tokens=False)["input_ids"]
                ids = tokenizer(full_text, add_special_tokens=False)["input_ids"]
                labels = [-100] * len(p) + ids[len(p):]
                out = m(input_ids=torch.tensor([ids], device=m.device), labels=torch.tensor([labels], device=m.device))
                losses.append(out.loss.item())
        m.train()
        return sum(losses) / len(losses)

    if stage == "sft":
        # TRL drops examples whose answer is cut away entirely, and then fails with "num_samples=0".
        def prompt_tokens(r):
            text = tokenizer.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=False)
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])
        shortest = min(prompt_tokens(r) for r in train_rows[:256])
        if shortest >= train_cfg["maxLength"]:
            raise ConfigError(f"field train.maxLength: {train_cfg['maxLength']} tokens leave no room for any answer "
                              f"(the shortest prompt of {cfg['dataset']['train']} is {shortest} tokens); raise it")
    if train_cfg.get("paddingFree") and not train_cfg.get("packing") and stage == "sft":
        # TRL's padding-free collator does not truncate: every row must already fit maxLength.
        def row_tokens(r):
            text = tokenizer.apply_chat_template(r["prompt"] + r["completion"], tokenize=False)
            return len(tokenizer(text, add_special_tokens=False)["input_ids"])
        longest = max(row_tokens(r) for r in train_rows)
        if longest > train_cfg["maxLength"]:
            raise ConfigError(f"field train.paddingFree: padding-free batches are not truncated and the longest row of "
                              f"{cfg['dataset']['train']} has {longest} tokens > train.maxLength {train_cfg['maxLength']}; "
                              "raise maxLength, or use train.packing (which cuts rows to maxLength)")
    total_steps = train_cfg["maxSteps"] or 0
    if backend == "unsloth":
        base_loss = None  # Unsloth returns the model with its adapter already added
        peft_config = model.peft_config["default"]
    else:
        base_loss = probe_loss(model)
        peft_config = peft_config_for(cfg, model, total_steps)
    t_init = time.time()
    if backend == "unsloth":
        resolved = getattr(peft_config, "target_modules", None)
        target_modules = sorted(resolved) if isinstance(resolved, (set, list, tuple)) else []
    elif peft_config is None:
        model.requires_grad_(True)
        target_modules = []
    else:
        if quant is not None:
            from peft import prepare_model_for_kbit_training
            model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=train_cfg["gradientCheckpointing"])
        model = get_peft_model(model, peft_config)
        resolved = getattr(model.peft_config["default"], "target_modules", None)  # None for the prompt family
        target_modules = sorted(resolved) if isinstance(resolved, (set, list, tuple)) else ([resolved] if resolved else [])
    init_seconds = round(time.time() - t_init, 4)
    # As used for training (saving a PiSSA/OLoRA adapter below rewrites init_lora_weights in place).
    peft_dict = json.loads(json.dumps(peft_config.to_dict(), default=lambda o: sorted(o) if isinstance(o, set) else str(o))) \
        if peft_config is not None else None
    init_loss = probe_loss(model)
    converted = peft_config is not None and kind == "lora" and ax["init"] in ("pissa", "olora")
    if converted and RANK == 0 and not cfg.get("resume"):
        # Keep the initial adapter: saving converts the trained one into a plain LoRA adapter against it.
        model.peft_config["default"].init_lora_weights = True
        model.save_pretrained(os.path.join(run_dir, "initial_adapter"))
    if peft_config is None:
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        total = sum(p.numel() for p in model.parameters())
    else:
        trainable, total = model.get_nb_trainable_parameters()

    versions = {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
                "trl": trl.__version__, "python": sys.version.split()[0]}
    for extra, wanted in (("liger_kernel", train_cfg.get("liger")), ("unsloth", backend == "unsloth")):
        if wanted:
            import importlib.metadata
            versions[extra] = importlib.metadata.version(extra.replace("_", "-"))
    emit("start", versions=versions, backend=backend,
         device=device, dtype=dtype_name, method=label, stage=stage, total_params=total, trainable_params=trainable,
         train_examples=len(train_rows), eval_examples=len(eval_rows), base_loss=base_loss, init_loss=init_loss,
         world_size=int(os.environ.get("WORLD_SIZE", "1")), run_dir=run_dir,
         peft_config=peft_dict,
         target_modules=target_modules, params_by_module=params_by_module(model), init_seconds=init_seconds)

    common = dict(
        output_dir=os.path.join(run_dir, "checkpoints"), max_steps=train_cfg["maxSteps"] or -1,
        num_train_epochs=train_cfg.get("epochs") or 1, per_device_train_batch_size=train_cfg["batchSize"],
        per_device_eval_batch_size=train_cfg["batchSize"], gradient_accumulation_steps=train_cfg["gradAccum"],
        learning_rate=train_cfg["lr"], lr_scheduler_type=train_cfg["schedule"], warmup_steps=train_cfg["warmupSteps"],
        logging_steps=train_cfg["logEvery"], logging_first_step=True, seed=train_cfg["seed"], data_seed=train_cfg["seed"],
        eval_strategy="steps" if eval_rows and train_cfg["evalEvery"] else "no", eval_steps=train_cfg["evalEvery"] or None,
        save_strategy="steps", save_steps=train_cfg["saveEvery"] or 10**9, report_to=[],
        save_total_limit=train_cfg.get("keepCheckpoints", 2),
        disable_tqdm=True, use_cpu=device == "cpu", bf16=dtype_name == "bfloat16", fp16=dtype_name == "float16",
        gradient_checkpointing=train_cfg["gradientCheckpointing"], dataloader_num_workers=0, max_length=train_cfg["maxLength"],
        ddp_backend="gloo" if device == "cpu" and int(os.environ.get("WORLD_SIZE", "1")) > 1 else None,
        remove_unused_columns=True,
        # The throughput settings (run_config.ts documents each), passed as they are.
        use_liger_kernel=bool(train_cfg.get("liger")), padding_free=bool(train_cfg.get("paddingFree")),
        torch_compile=bool(train_cfg.get("compile")), auto_find_batch_size=bool(train_cfg.get("autoBatchSize")),
    )
    state = {"last_time": time.time(), "last_tokens": 0.0, "last_step": 0, "rss": rss_bytes(), "last_save": time.time(),
             "step_t0": None, "step_times": [], "eval_seconds": 0.0}
    # What the training forwards were fed, counted at the model's door (a forward pre-hook, training forwards only):
    # positions (padding included), real tokens, and Σ length² for the attention term of the FLOPs.
    fed = {"positions": 0, "tokens": 0, "len2": 0.0, "step": [0, 0, 0.0]}
    per_step = []  # (seconds, tokens, positions, len2) of each optimizer step that was not memory-probed
    samples_per_step = train_cfg["batchSize"] * train_cfg["gradAccum"] * int(os.environ.get("WORLD_SIZE", "1"))
    memory = MemoryProbe(device, total_steps, train_cfg.get("probeMemory", True))

    def exact_match() -> float | None:
        if stage != "sft" or not eval_rows or not eval_cfg.get("exactMatch", True):
            return None
        m = trainer.model
        m.eval()
        hits, rows = 0, eval_rows[: eval_cfg.get("maxExamples", 64)]
        with torch.no_grad():
            for r in rows:
                enc = tokenizer.apply_chat_template(r["prompt"], add_generation_prompt=True, return_tensors="pt", return_dict=True)
                enc = {k: v.to(m.device) for k, v in enc.items()}
                answer = r["completion"][0]["content"]
                n_new = len(tokenizer(answer, add_special_tokens=False)["input_ids"]) + 8
                out = m.generate(**enc, max_new_tokens=n_new, do_sample=False, pad_token_id=tokenizer.pad_token_id,
                                 eos_token_id=tokenizer.eos_token_id)
                got = tokenizer.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip()
                hits += got == answer.strip()
        m.train()
        return hits / len(rows)

    class Events(TrainerCallback):
        def on_step_begin(self, args, st, control, model=None, optimizer=None, **kw):  # noqa: ARG002
            memory.begin(model, optimizer, st.global_step)
            state["step_t0"] = time.perf_counter()

        def on_optimizer_step(self, args, st, control, model=None, **kw):  # noqa: ARG002
            # AdaLoRA reallocates its ranks after each optimizer step, while the gradients still exist.
            if kind == "adalora":
                trainer.model.base_model.update_and_allocate(st.global_step)

        def on_step_end(self, args, st, control, **kw):  # noqa: ARG002
            if device == "cuda":
                torch.cuda.synchronize()  # the step's kernels are queued, not done, until this returns
            dt = time.perf_counter() - state["step_t0"] if state["step_t0"] is not None else None
            if not memory.end() and dt is not None:
                state["step_times"].append(dt)
                per_step.append((dt, *fed["step"]))
            fed["step"] = [0, 0, 0.0]
            state["rss"] = max(state["rss"], rss_bytes())
            if interrupted["flag"]:
                control.should_save = True
                control.should_training_stop = True
            minutes = train_cfg.get("saveMinutes", 0)
            if minutes and time.time() - state["last_save"] >= minutes * 60:
                control.should_save = True  # the time cadence: a hard kill loses at most this much training

        def on_log(self, args, st, control, logs=None, **kw):  # noqa: ARG002
            logs = logs or {}
            if "loss" in logs:
                now = time.time()
                steps = max(1, st.global_step - state["last_step"])
                dt = max(1e-9, now - state["last_time"])
                tokens = logs.get("num_tokens")
                tps = (tokens - state["last_tokens"]) / dt if tokens is not None else None
                extra = {k: v for k, v in logs.items() if k.startswith(("rewards/", "logps/", "mean_token_accuracy", "entropy"))}
                allocated, _ = memory.allocated()
                emit("step", step=st.global_step, loss=logs["loss"], tokens=tokens, padded_tokens=fed["positions"],
                     learning_rate=logs.get("learning_rate"),
                     grad_norm=logs.get("grad_norm"), tokens_per_second=tps, samples_per_second=samples_per_step * steps / dt,
                     peak_memory_bytes=peak_memory_bytes(device), peak_allocated_bytes=allocated, peak_rss_bytes=state["rss"],
                     elapsed=round(now - _T0, 3), epoch=logs.get("epoch"), metrics=extra)
                state.update(last_time=now, last_tokens=tokens or 0.0, last_step=st.global_step)

        def on_evaluate(self, args, st, control, metrics=None, **kw):  # noqa: ARG002
            metrics = metrics or {}
            t = time.perf_counter()
            em = exact_match()
            state["eval_seconds"] += time.perf_counter() - t + metrics.get("eval_runtime", 0.0)
            emit("eval", step=st.global_step, eval_loss=metrics.get("eval_loss"), exact_match=em,
                 metrics={k: v for k, v in metrics.items() if k.startswith("eval_rewards/")})

        def on_save(self, args, st, control, **kw):  # noqa: ARG002
            state["last_save"] = time.time()
            emit("checkpoint", step=st.global_step, path=os.path.join(args.output_dir, f"checkpoint-{st.global_step}"))

    optimizers = (None, None)
    if optim_cfg.get("name") == "loraplus":
        from peft.optimizers import create_loraplus_optimizer
        optimizers = (create_loraplus_optimizer(model, torch.optim.AdamW, lr=train_cfg["lr"],
                                                loraplus_lr_ratio=optim_cfg.get("loraplusLrRatio", 16)), None)
    if stage == "sft":
        from trl import SFTConfig, SFTTrainer
        sft_args = {**common, "packing": bool(train_cfg.get("packing"))}
        if train_cfg.get("paddingFree") and not train_cfg.get("packing"):
            sft_args["max_length"] = None  # checked above: every row fits train.maxLength
        trainer = SFTTrainer(model=model, args=SFTConfig(**sft_args), train_dataset=Dataset.from_list(train_rows),
                             eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
                             processing_class=tokenizer, callbacks=[Events()], optimizers=optimizers)
    else:
        from trl import DPOConfig, DPOTrainer
        trainer = DPOTrainer(model=model, args=DPOConfig(beta=train_cfg["dpoBeta"], **common),
                             train_dataset=Dataset.from_list(train_rows),
                             eval_dataset=Dataset.from_list(eval_rows) if eval_rows else None,
                             processing_class=tokenizer, callbacks=[Events()], optimizers=optimizers)
    trainer.model.register_forward_pre_hook(_count_fed(fed), with_kwargs=True)
    engine_args = {k: getattr(trainer.args, k, None) for k in ENGINE_ARGS}
    engine_args["padding_free_effective"] = bool(getattr(trainer, "padding_free", engine_args["padding_free"]))
    with open(os.path.join(run_dir, "trainer_args.json"), "w", encoding="utf-8") as f:
        json.dump(trainer.args.to_dict(), f, indent=1, default=str)
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()  # the peak of training alone (loading and probe_loss left out)
    t_train = time.time()
    result = trainer.train(resume_from_checkpoint=True if cfg.get("resume") else None)
    if interrupted["flag"]:
        emit("error", kind="interrupted", message=f"stopped at step {trainer.state.global_step}; a checkpoint was saved",
             hint="Run again with resume: true to continue from it.", step=trainer.state.global_step)
        return 0
    final_eval = next((h for h in reversed(trainer.state.log_history) if "eval_loss" in h and h.get("step") == trainer.state.global_step), {})
    if eval_rows and not final_eval:
        final_eval = trainer.evaluate()  # emits an `eval` event through the callback
    saved_dir = os.path.join(run_dir, "model" if peft_config is None else "adapter")
    if RANK == 0:
        if converted:
            trainer.model.save_pretrained(saved_dir, path_initial_model_for_weight_conversion=os.path.join(run_dir, "initial_adapter"))
        else:
            trainer.model.save_pretrained(saved_dir)
        tokenizer.save_pretrained(saved_dir)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    allocated, source = memory.allocated()
    names = {id(p): n for n, p in trainer.model.named_parameters()}
    groups = [{"lr": g.get("initial_lr", g["lr"]), "params": sum(p.numel() for p in g["params"]),
               "lora_A": sum(p.numel() for p in g["params"] if "lora_A" in names.get(id(p), "")),
               "lora_B": sum(p.numel() for p in g["params"] if "lora_B" in names.get(id(p), ""))}
              for g in trainer.optimizer.param_groups if g["params"]] if trainer.optimizer is not None else []
    times = state["step_times"]
    speed = throughput(per_step, trainer.model, device, dtype_name)
    engine_args["per_device_train_batch_size"] = getattr(trainer, "_train_batch_size", None) or train_cfg["batchSize"]
    emit("end", backend=backend, batch_size=engine_args["per_device_train_batch_size"], engine_args=engine_args, **speed, steps=trainer.state.global_step, final_loss=losses[-1] if losses else None,
         eval_loss=final_eval.get("eval_loss"), train_seconds=round(time.time() - t_train, 3),
         train_runtime=result.metrics.get("train_runtime"), adapter=saved_dir, converted_to_lora=converted,
         peak_memory_bytes=peak_memory_bytes(device), saved="model" if peft_config is None else "adapter",
         seconds_per_step=round(sum(times) / len(times), 5) if times else None,
         eval_seconds=round(state["eval_seconds"], 3), peak_allocated_bytes=allocated, memory_source=source,
         memory_breakdown=memory.breakdown, peak_rss_bytes=state["rss"], optimizer_groups=groups)
    return 0


ENGINE_ARGS = ("use_liger_kernel", "padding_free", "packing", "packing_strategy", "torch_compile", "gradient_checkpointing",
               "auto_find_batch_size", "per_device_train_batch_size", "gradient_accumulation_steps", "bf16", "fp16")


def _count_fed(fed: dict):
    """A forward pre-hook that adds up what each training forward is fed: positions (the batch's size, padding
    included), real tokens, and Σ length² of its sequences — rows of a padded batch, or the segments of a
    padding-free one (`position_ids` restart at 0)."""
    import torch

    def hook(module, args, kwargs):
        if not (module.training and torch.is_grad_enabled()):
            return None
        ids = kwargs.get("input_ids", args[0] if args else None)
        if ids is None:
            return None
        mask, pos = kwargs.get("attention_mask"), kwargs.get("position_ids")
        if mask is not None:
            lengths = mask.sum(dim=-1).flatten()
        elif pos is not None:
            starts = (pos.flatten() == 0).nonzero().flatten().tolist() + [pos.numel()]
            lengths = torch.tensor([b - a for a, b in zip(starts, starts[1:]) if b > a])
        else:
            lengths = torch.tensor([ids.shape[-1]] * (ids.numel() // ids.shape[-1]))
        n, tokens, len2 = ids.numel(), int(lengths.sum()), float((lengths.double() ** 2).sum())
        fed["positions"] += n
        fed["tokens"] += tokens
        fed["len2"] += len2
        fed["step"] = [fed["step"][0] + tokens, fed["step"][1] + n, fed["step"][2] + len2]
        return None
    return hook


def throughput(per_step: list, model, device: str, dtype_name: str) -> dict:
    """tokens/s over the measured steps (step 1 — warm-up, compilation — left out when there are 3 or more), the
    model FLOPs per token (flops.py) and MFU against the GPU's peak (data/gpu_peak_flops.json)."""
    import flops
    import torch
    steps = per_step[1:] if len(per_step) >= 3 else per_step
    seconds = sum(s[0] for s in steps)
    tokens, positions, len2 = sum(s[1] for s in steps), sum(s[2] for s in steps), sum(s[3] for s in steps)
    tps = tokens / seconds if seconds > 0 and tokens else None
    seq = len2 / tokens if tokens else 0.0  # the token-weighted mean sequence length
    config = getattr(model, "config", None) or model.get_base_model().config
    try:
        per_token = flops.flops_per_token(config, seq)
    except (TypeError, AttributeError):
        per_token = None  # not a Llama-style decoder config
    gpu = torch.cuda.get_device_name(0) if device == "cuda" else None
    arch = getattr(torch.cuda.get_device_properties(0), "gcnArchName", None) if device == "cuda" else None
    peak, source = flops.peak_flops(gpu, dtype_name, arch)
    return {"tokens_per_second": tps, "measured_tokens": tokens, "measured_positions": positions, "measured_seconds": round(seconds, 4),
            "attention_seq_length": seq, "flops_per_token": per_token["total"] if per_token else None,
            "mfu": flops.mfu(tps, per_token["total"], peak) if per_token else None, "peak_flops": peak,
            "peak_flops_source": source, "gpu_name": gpu}


if __name__ == "__main__":
    sys.exit(main())
