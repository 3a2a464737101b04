"""Answers chat prompts with a model (and optionally a LoRA adapter): greedy, the model's chat template.

stdin: {"model": DIR, "adapter": DIR|null, "prompts": [str|messages], "maxNewTokens": N}
stdout: {"answers": [str], "seconds": s}
"""

import sys
import time

from _job import answer, load_model, read_job


def main() -> int:
    job = read_job()
    import torch

    t0 = time.time()
    tok, model = load_model(job["model"], job.get("adapter"))
    answers = []
    with torch.no_grad():
        for p in job["prompts"]:
            messages = [{"role": "user", "content": p}] if isinstance(p, str) else p
            enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
            out = model.generate(**enc, max_new_tokens=job.get("maxNewTokens", 32), do_sample=False,
                                 eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id or tok.eos_token_id)
            answers.append(tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip())
    answer({"answers": answers, "seconds": round(time.time() - t0, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
