"""Token by token: what the model predicts at every position of chat examples, and which tokens the trainer's
loss scores. lib/infer/token_report.ts is the other end.

stdin: {"model": DIR, "adapter": DIR|null, "examples": [{"prompt": str|messages, "answer": str}]}
stdout: {"rows": [{"example", "position", "token", "part", "loss", "prob", "predicted", "correct", "entropy"}],
         "vocabSize": n, "eosToken": str, "seconds": s}

Each row is one next-token prediction: the logits at `position` scored against the token at `position + 1` (the
same shift as the causal-LM loss). `part` says where that target token sits: "prompt" (the chat up to the
assistant turn; masked with -100 by the completion-only loss), "answer" (the answer's text), "eos" (the tokenizer's
end token, which the chat template writes after the answer) or "after-eos" (what the template writes after it,
e.g. ChatML's newline). The trainer's loss, mean_token_accuracy and entropy cover answer + eos + after-eos: the
labels of _job.py's chat_completion_ids (the tokens TRL's completion mask keeps).
"""

import sys
import time

from _job import answer, chat_completion_ids, load_model, read_job


def rows_for(model, tok, index: int, messages: list, expected: str) -> list[dict]:
    import torch
    prompt_ids, ids, labels = chat_completion_ids(tok, messages, expected)
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0, :-1].float()
    logp = logits.log_softmax(-1)
    entropy = -(logp.exp() * logp).sum(-1)
    targets = torch.tensor(ids[1:])
    nll = -logp.gather(-1, targets[:, None])[:, 0]
    predicted = logits.argmax(-1)
    rows, seen_eos = [], False
    for i, target in enumerate(ids[1:]):
        if labels[i + 1] == -100:
            part = "prompt"
        elif seen_eos:
            part = "after-eos"
        elif target == tok.eos_token_id:
            part, seen_eos = "eos", True
        else:
            part = "answer"
        rows.append({"example": index, "position": i, "token": tok.decode([target]), "part": part,
                     "loss": nll[i].item(), "prob": float(torch.exp(-nll[i]).item()),
                     "predicted": tok.decode([int(predicted[i])]), "correct": bool(predicted[i].item() == target),
                     "entropy": entropy[i].item()})
    return rows


def main() -> int:
    job = read_job()
    t0 = time.time()
    tok, model = load_model(job["model"], job.get("adapter"))
    rows = []
    for index, ex in enumerate(job["examples"]):
        messages = [{"role": "user", "content": ex["prompt"]}] if isinstance(ex["prompt"], str) else ex["prompt"]
        rows.extend(rows_for(model, tok, index, messages, ex["answer"]))
    answer({"rows": rows, "vocabSize": int(model.get_output_embeddings().weight.shape[0]), "eosToken": tok.eos_token,
            "seconds": round(time.time() - t0, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
