"""Generates answers for evaluation: greedy, or n samples per prompt, in batches (left padding).

stdin: {"model": DIR, "adapter": DIR|null, "prompts": [str|messages], "n": N, "temperature": T, "topP": P,
        "maxNewTokens": M, "seed": S, "batchSize": B, "stop": [str]}
stdout: {"samples": [[str] * n] per prompt, "seconds": s}
Temperature 0 is greedy (n must be 1). Each prompt gets the model's chat template with a generation prompt.
"""

import sys
import time

from _job import answer, load_model, read_job


def main() -> int:
    job = read_job()
    import torch

    t0 = time.time()
    tok, model = load_model(job["model"], job.get("adapter"))
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    n, temperature = int(job.get("n", 1)), float(job.get("temperature", 0))
    torch.manual_seed(int(job.get("seed", 0)))
    texts = [tok.apply_chat_template([{"role": "user", "content": p}] if isinstance(p, str) else p,
                                     add_generation_prompt=True, tokenize=False) for p in job["prompts"]]
    stops = job.get("stop") or []
    samples = []
    bs = max(1, int(job.get("batchSize", 16)))
    with torch.no_grad():
        for start in range(0, len(texts), bs):
            enc = tok(texts[start:start + bs], return_tensors="pt", padding=True, add_special_tokens=False)
            kwargs = dict(max_new_tokens=int(job.get("maxNewTokens", 64)), eos_token_id=tok.eos_token_id,
                          pad_token_id=tok.pad_token_id)
            if temperature > 0:
                kwargs.update(do_sample=True, temperature=temperature, top_p=float(job.get("topP", 1.0)),
                              num_return_sequences=n)
            else:
                kwargs.update(do_sample=False)
            out = model.generate(**enc, **kwargs)
            new = out[:, enc["input_ids"].shape[1]:]
            decoded = tok.batch_decode(new, skip_special_tokens=True)
            for i in range(0, len(decoded), n if temperature > 0 else 1):
                group = decoded[i:i + (n if temperature > 0 else 1)]
                cut = []
                for text in group:
                    for s in stops:
                        if s in text:
                            text = text[:text.index(s)]
                    cut.append(text.strip())
                samples.append(cut)
    answer({"samples": samples, "seconds": round(time.time() - t0, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
