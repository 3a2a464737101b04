"""Runs one LLaMA-Factory training config, as `llamafactory-cli train` does, with one callback added.

  python run.py TRAIN.yaml METRICS.jsonl

The training is LLaMA-Factory's own: `run_exp(config, callbacks=[ours])` is what its CLI calls (it appends
its LogCallback, which writes `output_dir/trainer_log.jsonl`, after ours). Our callback writes METRICS.jsonl,
one JSON object per line, in full precision:
  {"kind": "start", "time", "trainableParams", "totalParams", "device", "dtype", "versions", "peftConfig",
   "targetModules", "trainExamples", "evalExamples"}                                      at on_train_begin
  {"kind": "log", "time", "step", "peakMemoryBytes", "peakRssBytes", "logs": {...}}      each Trainer log dict
  {"kind": "end", "time", "step", "secondsPerStep", "peakMemoryBytes", "peakRssBytes", "interrupted"}
trainer_log.jsonl keeps 4 fields of each log dict; METRICS.jsonl keeps all (grad_norm, DPO's rewards/margins,
logps, …). Because our callback runs first, METRICS.jsonl has step N before trainer_log.jsonl does.

SIGINT (or SIGTERM): the run stops at the end of the current step with a checkpoint; LLaMA-Factory then saves the
adapter and its results as after a normal end, and the process exits 0 (METRICS.jsonl's `end` says
`interrupted: true`). A second SIGINT raises KeyboardInterrupt at once.
LLaMA-Factory logs to stdout: stdout is sent to stderr, so the whole log is one stream.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import sys
import time

# LLaMA-Factory's logger writes to stdout: one stream (stderr) for every human line, C code included.
os.dup2(2, 1)
sys.stdout = sys.stderr

_INTERRUPTED = {"flag": False}


def _on_signal(signum, frame):  # noqa: ARG001
    if _INTERRUPTED["flag"]:
        raise KeyboardInterrupt
    _INTERRUPTED["flag"] = True
    print("[ince] interrupt received: stopping at the end of this step (adapter and checkpoint are saved)",
          file=sys.stderr, flush=True)


def _finite(x):
    """JSON has no NaN/Infinity: such numbers are written as null."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_finite(v) for v in x]
    return x


def _jsonable(x):
    return json.loads(json.dumps(x, default=lambda o: sorted(o) if isinstance(o, set) else str(o)))


def _peak_memory_bytes(device: str) -> int:
    """As ince's trainer: the GPU allocator's peak on a GPU, the process's peak RSS on a CPU."""
    import torch
    if device == "cuda":
        return int(torch.cuda.max_memory_allocated())
    return _peak_rss_bytes()


def _peak_rss_bytes() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)


def _eval_examples() -> int:
    """Rows of the trainer's eval set: callbacks are not given the trainer, so find it up the call stack
    (Trainer._inner_training_loop → CallbackHandler.on_train_begin → call_event → our callback)."""
    from transformers import Trainer
    frame = sys._getframe(1)
    while frame is not None:
        trainer = frame.f_locals.get("self")
        if isinstance(trainer, Trainer):
            data = trainer.eval_dataset
            if data is None:
                return 0
            return sum(len(d) for d in data.values()) if isinstance(data, dict) else len(data)
        frame = frame.f_back
    return 0


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: run.py TRAIN.yaml METRICS.jsonl", file=sys.stderr)
        return 2
    config_path, metrics_path = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    from omegaconf import OmegaConf  # LLaMA-Factory reads its YAML with OmegaConf (2e-4 is a float)
    from transformers import TrainerCallback

    out = open(metrics_path, "a", buffering=1, encoding="utf-8")

    def write(kind: str, **fields) -> None:
        out.write(json.dumps(_finite({"kind": kind, "time": round(time.time(), 3), **fields}), allow_nan=False) + "\n")

    state = {"device": "cpu", "step_t0": None, "step_times": []}

    class Metrics(TrainerCallback):
        def on_train_begin(self, args, st, control, model=None, train_dataloader=None, **kw):  # noqa: ARG002
            import peft
            import torch
            import transformers
            import trl
            import llamafactory
            state["device"] = args.device.type
            if hasattr(model, "get_nb_trainable_parameters"):
                trainable, total = model.get_nb_trainable_parameters()
            else:
                trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
                total = sum(p.numel() for p in model.parameters())
            peft_config = getattr(model, "peft_config", {}).get("default")
            targets = getattr(peft_config, "target_modules", None)
            dtype = "bfloat16" if args.bf16 else "float16" if args.fp16 else str(next(model.parameters()).dtype).replace("torch.", "")
            write("start", trainableParams=trainable, totalParams=total, device=state["device"], dtype=dtype,
                  versions={"llamafactory": llamafactory.__version__, "transformers": transformers.__version__,
                            "peft": peft.__version__, "trl": trl.__version__, "torch": torch.__version__,
                            "python": sys.version.split()[0]},
                  peftConfig=_jsonable(peft_config.to_dict()) if peft_config is not None else None,
                  targetModules=sorted(targets) if isinstance(targets, (set, list, tuple)) else [],
                  trainExamples=len(train_dataloader.dataset) if train_dataloader is not None else 0,
                  evalExamples=_eval_examples())

        def on_step_begin(self, args, st, control, **kw):  # noqa: ARG002
            state["step_t0"] = time.perf_counter()

        def on_step_end(self, args, st, control, **kw):  # noqa: ARG002
            if state["device"] == "cuda":
                import torch
                torch.cuda.synchronize()
            if state["step_t0"] is not None:
                state["step_times"].append(time.perf_counter() - state["step_t0"])
            if _INTERRUPTED["flag"]:
                control.should_save = True
                control.should_training_stop = True

        def on_log(self, args, st, control, logs=None, **kw):  # noqa: ARG002
            write("log", step=st.global_step, peakMemoryBytes=_peak_memory_bytes(state["device"]),
                  peakRssBytes=_peak_rss_bytes(), logs=dict(logs or {}))

        def on_train_end(self, args, st, control, **kw):  # noqa: ARG002
            times = state["step_times"]
            write("end", step=st.global_step, secondsPerStep=round(sum(times) / len(times), 5) if times else None,
                  peakMemoryBytes=_peak_memory_bytes(state["device"]), peakRssBytes=_peak_rss_bytes(),
                  interrupted=_INTERRUPTED["flag"])

    from llamafactory.train.tuner import run_exp

    config = OmegaConf.to_container(OmegaConf.load(config_path))
    run_exp(config, callbacks=[Metrics()])
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
