"""Pretrains the built-in model, data/models/ince-tiny/, on the text of course_text.py.

A Llama-architecture causal LM (~1.8 M parameters, fp32 safetensors, ~7 MB), a byte-level BPE
tokenizer trained on the same text, and a ChatML chat template. Deterministic on a CPU: the same seed
gives the same loss curve (recorded in training_log.json), in about 10 minutes on 2 cores.

  .tools/venv/bin/python data/scripts/make_model.py [--out DIR] [--steps N] [--check-steps K]

--check-steps K retrains only the first K steps into a temporary folder and compares its losses with
the recorded curve (exit 1 on a difference): the reproducibility check the tests run.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import tempfile
import time

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from course_text import corpus  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(ROOT, "data", "models", "ince-tiny")
SEED = 20261126
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
HP = dict(vocab_size=1024, hidden_size=160, intermediate_size=448, num_hidden_layers=5, num_attention_heads=4,
          num_key_value_heads=4, max_position_embeddings=256, seq_len=128, batch_size=32, lr=3e-3, warmup=60,
          sentences=60000, steps=1200)


def make_tokenizer(texts: list[str]) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=HP["vocab_size"], special_tokens=SPECIALS, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, bos_token=None, eos_token="<|im_end|>",
                                   pad_token="<|endoftext|>", unk_token=None, chat_template=CHAT_TEMPLATE,
                                   model_max_length=HP["max_position_embeddings"])


def train(out: str, steps: int, log_every: int = 10) -> list[float]:
    torch.manual_seed(SEED)
    random.seed(SEED)
    torch.set_num_threads(2)
    torch.use_deterministic_algorithms(True)
    texts = corpus(SEED, HP["sentences"])
    tokenizer = make_tokenizer(texts)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    stream: list[int] = []
    for t in texts:
        stream.extend(tokenizer(t + " ")["input_ids"])
        stream.append(eos)
    data = torch.tensor(stream, dtype=torch.long)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=HP["hidden_size"], intermediate_size=HP["intermediate_size"],
        num_hidden_layers=HP["num_hidden_layers"], num_attention_heads=HP["num_attention_heads"],
        num_key_value_heads=HP["num_key_value_heads"], max_position_embeddings=HP["max_position_embeddings"],
        tie_word_embeddings=True, bos_token_id=None, eos_token_id=tokenizer.convert_tokens_to_ids("<|im_end|>"),
        pad_token_id=eos, rope_theta=10000.0,
    )
    model = LlamaForCausalLM(config)
    opt = torch.optim.AdamW(model.parameters(), lr=HP["lr"], betas=(0.9, 0.95), weight_decay=0.1)
    gen = torch.Generator().manual_seed(SEED)
    L, B = HP["seq_len"], HP["batch_size"]
    losses, t0 = [], time.time()
    for step in range(steps):
        lr = HP["lr"] * min(1.0, (step + 1) / HP["warmup"]) * 0.5 * (1 + math.cos(math.pi * step / HP["steps"]))
        for g in opt.param_groups:
            g["lr"] = lr
        starts = torch.randint(0, len(data) - L - 1, (B,), generator=gen)
        batch = torch.stack([data[s:s + L] for s in starts])
        loss = model(input_ids=batch, labels=batch).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % log_every == 0 or step == steps - 1:
            losses.append(round(loss.item(), 6))
            print(f"step {step:4d} loss {loss.item():.4f} lr {lr:.2e} {time.time() - t0:6.1f}s", file=sys.stderr, flush=True)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    with open(os.path.join(out, "training_log.json"), "w") as f:
        json.dump({"seed": SEED, "hyperparameters": HP, "log_every": log_every, "losses": losses,
                   "seconds": round(time.time() - t0, 1), "tokens_in_corpus": len(stream),
                   "torch": torch.__version__}, f, indent=1)
    return losses


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--steps", type=int, default=HP["steps"])
    ap.add_argument("--check-steps", type=int, default=0)
    args = ap.parse_args()
    if args.check_steps:
        with open(os.path.join(DEFAULT_OUT, "training_log.json")) as f:
            recorded = json.load(f)["losses"]
        with tempfile.TemporaryDirectory() as d:
            got = train(d, args.check_steps)
        n = math.ceil(args.check_steps / 10)  # losses logged at steps 0, 10, 20, … below check_steps
        want = recorded[:n]
        same = got[:n] == want
        print(json.dumps({"reproduced": same, "compared": len(want), "got": got[: len(want)], "want": want}))
        return 0 if same else 1
    train(args.out, args.steps)
    return 0


if __name__ == "__main__":
    sys.exit(main())
