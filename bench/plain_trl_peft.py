"""The baseline of bench/gpu_train_bench.py: the run of an ince run config done with TRL + PEFT directly, the
way their documentation does it (`SFTTrainer(model, peft_config=LoraConfig(...))`), with no ince trainer.

    python bench/plain_trl_peft.py RUN_DIR/config.json [RUN_DIR2/config.json ...]

Same rows (RUN_DIR/data/train.jsonl, canonical {prompt, completion}), same model, same settings: the LoRA config
(r, alpha, dropout, all-linear, DoRA, PiSSA init, NF4 base through TRL's own k-bit preparation), dtype, batch,
max length, steps, learning rate, schedule, seed and gradient checkpointing; everything else is TRL's default
(AdamW fused, no Liger, no padding-free, no packing, no torch.compile). Throughput settings of the config
(`train.liger`, …) are ignored on purpose: this is the "plain" side of the comparison.

It prints the events the bench reads, a subset of the trainer's (lib/train/events.ts, protocol 2): `start`,
`step` (loss, cumulative `tokens` = TRL's `num_tokens`, the time of the event) after each optimizer step, `end`
(peak allocated bytes of training), or `error`. Steps are timed like the trainer times them: on a GPU each step
ends with `torch.cuda.synchronize()`, and the step event is sent from `on_log` (logging every step).
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback

_EVENTS_OUT = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")  # stdout carries events only
os.dup2(2, 1)
sys.stdout = sys.stderr


def emit(event: str, **fields) -> None:
    _EVENTS_OUT.write(json.dumps({"event": event, "protocol": 2, "time": round(time.time(), 3), **fields}) + "\n")


def train_plain(cfg: dict, rows: list[dict]) -> None:
    """One SFT run of `cfg` (a run config as parseRunConfig fills it) on `rows`, with TRL + PEFT only."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig, TrainerCallback
    from trl import SFTConfig, SFTTrainer

    train, lora = cfg["train"], cfg["lora"]
    cuda = cfg["device"] == "cuda"
    dtype = getattr(torch, cfg["dtype"])
    quant = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                               bnb_4bit_compute_dtype=dtype) if cfg["quant"] == "nf4" else None
    torch.manual_seed(train["seed"])
    tok = AutoTokenizer.from_pretrained(cfg["model"])
    model = AutoModelForCausalLM.from_pretrained(cfg["model"], dtype=dtype, quantization_config=quant,
                                                 device_map={"": 0} if cuda else None)
    init = {"default": True, "pissa": f"pissa_niter_{lora['pissaNiter']}"}[cfg["init"]]
    peft_config = LoraConfig(r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"],
                             target_modules="all-linear" if lora["targetModules"] == "all-linear" else lora["targetModules"],
                             use_dora=cfg["adapter"] == "dora", use_rslora=cfg["scaling"] == "rslora",
                             init_lora_weights=init, task_type="CAUSAL_LM")
    args = SFTConfig(output_dir=os.path.join(cfg["runDir"], "checkpoints"), max_steps=train["maxSteps"],
                     per_device_train_batch_size=train["batchSize"], gradient_accumulation_steps=train["gradAccum"],
                     learning_rate=train["lr"], lr_scheduler_type=train["schedule"], warmup_steps=train["warmupSteps"],
                     max_length=train["maxLength"], seed=train["seed"], data_seed=train["seed"],
                     gradient_checkpointing=train["gradientCheckpointing"], bf16=cfg["dtype"] == "bfloat16",
                     fp16=cfg["dtype"] == "float16", use_cpu=not cuda, logging_steps=1, save_strategy="no",
                     report_to=[], disable_tqdm=True)

    class Timing(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):  # noqa: ARG002
            if cuda:
                torch.cuda.synchronize()

        def on_log(self, args, state, control, logs=None, **kw):  # noqa: ARG002
            if logs and "loss" in logs:
                emit("step", step=state.global_step, loss=logs["loss"], tokens=logs.get("num_tokens"))

    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok,
                         peft_config=peft_config, callbacks=[Timing()])
    trainable, total = trainer.model.get_nb_trainable_parameters()
    emit("start", runDir=cfg["runDir"], dtype=cfg["dtype"], method=cfg["method"], trainableParams=trainable,
         totalParams=total)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    result = trainer.train()
    emit("end", steps=trainer.state.global_step, trainRuntime=result.metrics.get("train_runtime"),
         peakAllocatedBytes=int(torch.cuda.max_memory_allocated()) if cuda else None)


def main() -> int:
    code = 0
    for path in sys.argv[1:]:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
        cfg["runDir"] = cfg.get("runDir") or os.path.dirname(os.path.abspath(path))
        with open(os.path.join(os.path.dirname(os.path.abspath(path)), "data", "train.jsonl"), encoding="utf-8") as f:
            rows = [json.loads(line) for line in f if line.strip()]
        try:
            train_plain(cfg, [{"prompt": r["prompt"], "completion": r["completion"]} for r in rows])
        except Exception as e:  # noqa: BLE001 — reported like the trainer reports it, then the next config
            traceback.print_exc()
            oom = "out of memory" in str(e).lower()
            emit("error", kind="oom" if oom else "runtime", message=f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                 hint="See the bench's trainer log for the traceback.")
            code = 1
        finally:
            import gc
            gc.collect()
            if "torch" in sys.modules and sys.modules["torch"].cuda.is_available():
                sys.modules["torch"].cuda.empty_cache()
    return code


if __name__ == "__main__":
    sys.exit(main())
