"""The reference row of lesson 03's table: transformers (fp32, 1 thread) answering chat prompts greedily with
`generate()`, timed, plus the completion-only loss of the reference answers (`chat_completion_ids`, as score.py).

stdin: {"model": DIR, "examples": [{"prompt": [messages], "answer": str}], "maxNewTokens": N, "threads": N}
stdout: {"answers": [str], "newTokens": N, "generateSeconds": s, "loadSeconds": s, "nll": x, "lossTokens": N}
"""

import sys
import time

from _job import answer, chat_completion_ids, read_job


def main() -> int:
    job = read_job()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(job.get("threads", 1))
    t0 = time.time()
    tok = AutoTokenizer.from_pretrained(job["model"])
    model = AutoModelForCausalLM.from_pretrained(job["model"], dtype=torch.float32).eval()
    load_seconds = time.time() - t0
    answers, new_tokens, gen_seconds, nll, loss_tokens = [], 0, 0.0, 0.0, 0
    with torch.no_grad():
        for ex in job["examples"]:
            prompt_ids, ids, labels = chat_completion_ids(tok, ex["prompt"], ex["answer"])
            t1 = time.time()
            out = model.generate(input_ids=torch.tensor([prompt_ids]), attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
                                 max_new_tokens=job.get("maxNewTokens", 32), do_sample=False, eos_token_id=tok.eos_token_id,
                                 pad_token_id=tok.pad_token_id or tok.eos_token_id)
            gen_seconds += time.time() - t1
            new = out[0, len(prompt_ids):]
            new_tokens += len(new)
            answers.append(tok.decode(new, skip_special_tokens=True).strip())
            n = sum(1 for x in labels[1:] if x != -100)
            loss = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss.item()
            nll += loss * n
            loss_tokens += n
    answer({"answers": answers, "newTokens": new_tokens, "generateSeconds": round(gen_seconds, 4),
            "loadSeconds": round(load_seconds, 4), "nll": nll, "lossTokens": loss_tokens})
    return 0


if __name__ == "__main__":
    sys.exit(main())
