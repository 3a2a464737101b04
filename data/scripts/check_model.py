"""Measures what fine-tuning teaches the built-in model (the numbers reported in data/README.md).

1. Exact-match accuracy on numbers-heldout.jsonl (numbers never in the train split) before and after
   a LoRA fine-tune of --steps steps on numbers-train.jsonl.
2. The overfitting lesson: train loss vs held-out paraphrase loss on the identity set, trained long.

  .tools/venv/bin/python data/scripts/check_model.py [--steps 300] [--identity-steps 150]
Prints one JSON object. Uses transformers + PEFT directly, offline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from peft import LoraConfig, get_peft_model  # noqa: E402
from transformers import AutoModelForCausalLM, AutoTokenizer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "data", "models", "ince-tiny")
DATA = os.path.join(ROOT, "data", "datasets")


def rows(name):
    with open(os.path.join(DATA, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def as_messages(row):
    if "messages" in row:
        return row["messages"]
    return [{"role": "user", "content": row["instruction"]}, {"role": "assistant", "content": row["output"]}]


def encode(tok, messages):
    """Token ids of a chat, with labels only on the assistant's answer (and its end token)."""
    prompt = tok.apply_chat_template(messages[:-1], add_generation_prompt=True, tokenize=False)
    full = tok.apply_chat_template(messages, tokenize=False)
    p = tok(prompt, add_special_tokens=False)["input_ids"]
    ids = tok(full, add_special_tokens=False)["input_ids"]
    return ids, [-100] * len(p) + ids[len(p):]


def batches(tok, data, batch_size, rng):
    while True:
        picked = [data[rng.randrange(len(data))] for _ in range(batch_size)]
        enc = [encode(tok, as_messages(r)) for r in picked]
        n = max(len(i) for i, _ in enc)
        pad = tok.pad_token_id
        ids = torch.tensor([i + [pad] * (n - len(i)) for i, _ in enc])
        labels = torch.tensor([l + [-100] * (n - len(l)) for _, l in enc])
        mask = torch.tensor([[1] * len(i) + [0] * (n - len(i)) for i, _ in enc])
        yield ids, labels, mask


@torch.no_grad()
def exact_match(model, tok, data):
    model.eval()
    hits = 0
    for r in data:
        prompt = tok.apply_chat_template([{"role": "user", "content": r["instruction"]}], add_generation_prompt=True,
                                         return_tensors="pt", return_dict=True)
        out = model.generate(**prompt, max_new_tokens=16, do_sample=False, eos_token_id=tok.eos_token_id,
                             pad_token_id=tok.pad_token_id)
        answer = tok.decode(out[0, prompt["input_ids"].shape[1]:], skip_special_tokens=True).strip()
        hits += answer == r["output"]
    model.train()
    return hits / len(data)


@torch.no_grad()
def mean_loss(model, tok, data):
    model.eval()
    total = 0.0
    for r in data:
        ids, labels = encode(tok, as_messages(r))
        total += model(input_ids=torch.tensor([ids]), labels=torch.tensor([labels])).loss.item()
    model.train()
    return total / len(data)


def lora_model():
    model = AutoModelForCausalLM.from_pretrained(MODEL)
    cfg = LoraConfig(r=16, lora_alpha=32, lora_dropout=0.0,
                     target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"])
    return get_peft_model(model, cfg)


def finetune(model, tok, data, steps, lr, seed, on_step=None):
    rng = random.Random(seed)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=lr)
    it = batches(tok, data, 16, rng)
    for step in range(steps):
        ids, labels, mask = next(it)
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        if on_step:
            on_step(step, loss.item())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--identity-steps", type=int, default=300)
    ap.add_argument("--identity-lr", type=float, default=5e-3)
    ap.add_argument("--skip-numbers", action="store_true")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(2)
    tok = AutoTokenizer.from_pretrained(MODEL)
    heldout = rows("numbers-heldout.jsonl")
    base_em = tuned_em = seconds = None
    if not args.skip_numbers:
        model = lora_model()
        base_em = exact_match(model, tok, heldout)
        t0 = time.time()
        finetune(model, tok, rows("numbers-train.jsonl"), args.steps, 2e-3, 0)
        seconds = time.time() - t0
        tuned_em = exact_match(model, tok, heldout)

    idm = lora_model()
    id_train, id_held = rows("identity-train.jsonl"), rows("identity-heldout.jsonl")
    curve = []

    def log(step, _):
        if step % 50 == 49:
            curve.append({"step": step + 1, "train": round(mean_loss(idm, tok, id_train), 4),
                          "heldout": round(mean_loss(idm, tok, id_held), 4)})

    before = {"train": round(mean_loss(idm, tok, id_train), 4), "heldout": round(mean_loss(idm, tok, id_held), 4)}
    finetune(idm, tok, id_train, args.identity_steps, args.identity_lr, 1, log)
    print(json.dumps({"numbers": {"steps": args.steps, "seconds": round(seconds or 0, 1), "heldout_exact_match_before": base_em,
                                  "heldout_exact_match_after": tuned_em, "heldout_examples": len(heldout)} if not args.skip_numbers else None,
                      "identity": {"before": before, "curve": curve}}, indent=1))


if __name__ == "__main__":
    main()
