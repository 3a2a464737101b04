"""Counts the FLOPs of real training steps with PyTorch's FlopCounterMode (every matmul, convolution and attention
kernel, forward and backward), to check the 6·N + attention formula (flops.py, lib/train/mfu.ts) and to show what a
frozen base saves: for each method, one forward + backward of `batch` rows of exactly `seqLength` random tokens.

Job: {"model": folder, "seqLength": S, "batch": B, "methods": ["full", "lora"], "loraR": 8, "attention": "eager"}
With eager attention QKᵀ and attention·V are plain batched matmuls whose backward is exactly 2× the forward, as the
formula assumes; with "sdpa" PyTorch counts the fused kernel's backward as 2.5× its forward (it recomputes QKᵀ).
Answer: {"rows": [{"method", "flops", "tokens", "perToken", "byOp": {op: flops}}]}
"""

import torch
from torch.utils.flop_counter import FlopCounterMode
from transformers import AutoModelForCausalLM

from _job import answer, read_job

ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def count(model_dir: str, method: str, seq: int, batch: int, r: int, job_attention: str) -> dict:
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, attn_implementation=job_attention)
    if method == "lora":
        from peft import LoraConfig, get_peft_model
        model = get_peft_model(model, LoraConfig(r=r, lora_alpha=2 * r, lora_dropout=0.0, target_modules=ALL_LINEAR))
    model.train()
    ids = torch.randint(0, model.config.vocab_size, (batch, seq))
    counter = FlopCounterMode(display=False)
    with counter:
        model(input_ids=ids, labels=ids).loss.backward()
    by_op = {str(k): int(v) for k, v in counter.get_flop_counts().get("Global", {}).items()}
    total = int(counter.get_total_flops())
    return {"method": method, "flops": total, "tokens": batch * seq, "perToken": total / (batch * seq), "byOp": by_op}


job = read_job()
answer({"rows": [count(job["model"], m, int(job["seqLength"]), int(job.get("batch", 1)), int(job.get("loraR", 8)), job.get("attention", "eager"))
                 for m in job.get("methods", ["full"])]})
