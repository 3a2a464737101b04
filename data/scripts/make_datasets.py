"""Writes the course datasets under data/datasets/ (deterministic; run from the repo root).

  numbers-train.jsonl / numbers-heldout.jsonl   instruction set (alpaca shape), exact-match answers;
                                                held-out numbers never appear in the train split
  identity-train.jsonl / identity-heldout.jsonl identity + course Q&A (messages shape), EN and TR;
                                                held-out = paraphrases never trained on
  preferences.jsonl                             DPO pairs (prompt, chosen, rejected)
  pretraining-sample.txt                        200 sentences drawn like the built-in model's pretraining text
                                                (another seed): what the base model does well, for scoring
                                                it before/after quantization (plain text, one per line)
  counting.jsonl                                long answers (counting in words, > 256 tokens), so every
                                                batch fills train.maxLength: memory measured at a known length
"""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from course_text import (  # noqa: E402
    COURSE_QA, corpus, IDENTITY_EN, IDENTITY_QUESTIONS, IDENTITY_TR, INSTRUCTION_PROMPTS, RUDE, en_words, tr_words,
)

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "datasets")
SEED = 1234


def write(name, rows):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name}: {len(rows)} rows")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(SEED)
    numbers = list(range(100))
    rng.shuffle(numbers)
    split = {"train": sorted(numbers[:70]), "heldout": sorted(numbers[70:])}
    for part, nums in split.items():
        rows = []
        for n in nums:
            for lang, answer in (("en", en_words(n)), ("tr", tr_words(n))):
                prompts = INSTRUCTION_PROMPTS[lang] if part == "train" else INSTRUCTION_PROMPTS[lang][:1]
                for i, p in enumerate(prompts):
                    rows.append({"id": f"num-{lang}-{n}-{i}", "instruction": p.format(n=n), "input": "", "output": answer})
        write(f"numbers-{part}.jsonl", rows)

    for part in ("train", "heldout"):
        rows = []
        for lang, answer in (("en", IDENTITY_EN), ("tr", IDENTITY_TR)):
            for i, q in enumerate(IDENTITY_QUESTIONS[part][lang]):
                rows.append({"id": f"id-{lang}-{part}-{i}", "messages": [
                    {"role": "user", "content": q}, {"role": "assistant", "content": answer}]})
        for i, (q, a) in enumerate(COURSE_QA[part]):
            rows.append({"id": f"course-{part}-{i}", "messages": [
                {"role": "user", "content": q}, {"role": "assistant", "content": a}]})
        write(f"identity-{part}.jsonl", rows)

    prefs = []
    for n in split["train"]:
        for lang, answer, wrong in (("en", en_words(n), en_words((n + 1) % 100)), ("tr", tr_words(n), tr_words((n + 1) % 100))):
            prompt = INSTRUCTION_PROMPTS[lang][0].format(n=n)
            prefs.append({"id": f"pref-num-{lang}-{n}", "prompt": prompt, "chosen": answer, "rejected": wrong})
    for lang, answer in (("en", IDENTITY_EN), ("tr", IDENTITY_TR)):
        for i, q in enumerate(IDENTITY_QUESTIONS["train"][lang]):
            prefs.append({"id": f"pref-id-{lang}-{i}", "prompt": q, "chosen": answer, "rejected": rng.choice(RUDE)})
    write("preferences.jsonl", prefs)

    counting = []
    for start in range(0, 64):
        for lang, words in (("en", en_words), ("tr", tr_words)):
            counting.append({"id": f"count-{lang}-{start}", "instruction": f"Count from {start} in {'English' if lang == 'en' else 'Turkish'} words.",
                             "input": "", "output": ", ".join(words((start + k) % 100) for k in range(120))})
    write("counting.jsonl", counting)

    sample = corpus(SEED + 1, 200)
    with open(os.path.join(OUT, "pretraining-sample.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(sample) + "\n")
    print(f"pretraining-sample.txt: {len(sample)} lines")


if __name__ == "__main__":
    main()
