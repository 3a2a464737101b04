"""The baseline for bench/trainer_overhead_bench.ts: the same LoRA SFT run with TRL + PEFT directly,
no ince trainer, no events. Prints {"steps", "train_runtime"} as JSON."""

import json
import sys

import torch
from datasets import Dataset
from peft import LoraConfig, get_peft_model
from transformers import AutoModelForCausalLM, AutoTokenizer
from trl import SFTConfig, SFTTrainer

model_dir, data_path, steps, out_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
rows = []
for line in open(data_path, encoding="utf-8"):
    r = json.loads(line)
    rows.append({"prompt": [{"role": "user", "content": r["instruction"]}], "completion": [{"role": "assistant", "content": r["output"]}]})
torch.manual_seed(7)
tok = AutoTokenizer.from_pretrained(model_dir)
model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32),
                       LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0, task_type="CAUSAL_LM",
                                  target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]))
args = SFTConfig(output_dir=out_dir, max_steps=steps, per_device_train_batch_size=8, learning_rate=2e-3, logging_steps=1,
                 seed=7, data_seed=7, report_to=[], disable_tqdm=True, use_cpu=True, save_strategy="no", max_length=64,
                 dataloader_num_workers=0, lr_scheduler_type="cosine", logging_first_step=True,
                 # TRL defaults these on; ince sets them from its config (float32 on CPU, no checkpointing).
                 bf16=False, fp16=False, gradient_checkpointing=False)
result = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok).train()
print(json.dumps({"steps": steps, "train_runtime": result.metrics["train_runtime"]}))
