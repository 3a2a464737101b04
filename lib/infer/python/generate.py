"""Answers chat prompts with a model (and optionally a LoRA adapter): greedy, the model's chat template.

stdin: {"model": DIR, "adapter": DIR|null, "prompts": [str|messages], "maxNewTokens": N}
stdout: {"answers": [str], "seconds": s}
"""

import json
import os
import sys
import time

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
real_stdout = sys.stdout
sys.stdout = sys.stderr  # libraries' prints must not corrupt the JSON answer


def main() -> int:
    job = json.load(sys.stdin)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.time()
    tok = AutoTokenizer.from_pretrained(job["model"])
    model = AutoModelForCausalLM.from_pretrained(job["model"], dtype=torch.float32)
    if job.get("adapter"):
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, job["adapter"])
    model.eval()
    answers = []
    with torch.no_grad():
        for p in job["prompts"]:
            messages = [{"role": "user", "content": p}] if isinstance(p, str) else p
            enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
            out = model.generate(**enc, max_new_tokens=job.get("maxNewTokens", 32), do_sample=False,
                                 eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id or tok.eos_token_id)
            answers.append(tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip())
    real_stdout.write(json.dumps({"answers": answers, "seconds": round(time.time() - t0, 3)}) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
