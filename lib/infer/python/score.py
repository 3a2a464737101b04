"""Scores models on held-out examples: mean answer-token loss (the trainer's completion-only loss) and
greedy exact match, for several models (each optionally with an adapter) in one process.

stdin: {"models": [{"model": DIR, "adapter": DIR|null}],
        "examples": [{"prompt": str|messages, "answer": str} | {"text": str}]}
A chat example is scored on its answer, through the model's chat template. A plain text is scored as the
model was pretrained: loss on every token, and the greedy continuation of its first half against the rest.
stdout: {"results": [{"loss": x, "exactMatch": x, "answers": [str], "losses": [x]}], "seconds": s}
"""

import sys
import time

from _job import answer, chat_completion_ids, load_model, read_job


def score(model, tok, examples):
    import torch
    total, count, hits, answers, losses = 0.0, 0, 0, [], []
    with torch.no_grad():
        for ex in examples:
            if "text" in ex:
                ids = tok(ex["text"], add_special_tokens=False)["input_ids"]
                labels, k = ids, max(1, len(ids) // 2)
                prompt_ids, expected = ids[:k], tok.decode(ids[k:], skip_special_tokens=True)
            else:
                messages = [{"role": "user", "content": ex["prompt"]}] if isinstance(ex["prompt"], str) else ex["prompt"]
                prompt_ids, ids, labels = chat_completion_ids(tok, messages, ex["answer"])
                expected = ex["answer"]
            n = sum(1 for x in labels[1:] if x != -100)  # tokens the loss averages over (shifted by one)
            out = model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels]))
            total += out.loss.item() * n
            count += n
            losses.append(out.loss.item())
            n_new = len(tok(expected, add_special_tokens=False)["input_ids"]) + (0 if "text" in ex else 8)
            gen = model.generate(input_ids=torch.tensor([prompt_ids]), attention_mask=torch.ones(1, len(prompt_ids), dtype=torch.long),
                                 max_new_tokens=max(n_new, 1), do_sample=False, eos_token_id=tok.eos_token_id,
                                 pad_token_id=tok.pad_token_id or tok.eos_token_id)
            got = tok.decode(gen[0, len(prompt_ids):], skip_special_tokens=True).strip()
            answers.append(got)
            hits += got == expected.strip()
    return {"loss": total / max(count, 1), "exactMatch": hits / max(len(examples), 1), "answers": answers,
            "losses": losses}


def main() -> int:
    job = read_job()
    t0 = time.time()
    results = []
    for m in job["models"]:
        tok, model = load_model(m["model"], m.get("adapter"))
        results.append(score(model, tok, job["examples"]))
    answer({"results": results, "seconds": round(time.time() - t0, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
