"""Writes lesson 05's structured-output datasets under data/datasets/ (deterministic; run from the repo root).

  structured-train.jsonl    short English and Turkish sentences describing an order → the order as compact JSON
  structured-heldout.jsonl  the same task with sentence templates AND values never seen in training: other
                            customer names and other quantities (the enums — item, day — are shared, since a
                            schema's enum is fixed)

Rows are alpaca-shaped: {"id", "instruction", "input": the sentence, "output": the JSON, "lang", "template"}.
The JSON matches the zod schema `OrderSchema` in lib/projects/structured_output.ts:

  {"name": string, "item": "tea"|"coffee"|"bread"|"cake"|"water"|"book", "qty": integer 1..40,
   "day": "monday"|…|"sunday"}

Keys are written in that order without spaces (the built-in model's tokenizer spends about one token per
character on JSON punctuation and unfamiliar words, and its context is 256 tokens).
"""

import json
import os
import random

OUT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "datasets")
SEED = 1905
INSTRUCTION = "Extract the order as JSON."

ITEMS = {  # value in the JSON: (English singular, English plural, Turkish)
    "tea": ("cup of tea", "cups of tea", "çay"),
    "coffee": ("coffee", "coffees", "kahve"),
    "bread": ("loaf of bread", "loaves of bread", "ekmek"),
    "cake": ("cake", "cakes", "pasta"),
    "water": ("bottle of water", "bottles of water", "şişe su"),
    "book": ("book", "books", "kitap"),
}
DAYS = {
    "monday": ("Monday", "pazartesi"), "tuesday": ("Tuesday", "salı"), "wednesday": ("Wednesday", "çarşamba"),
    "thursday": ("Thursday", "perşembe"), "friday": ("Friday", "cuma"), "saturday": ("Saturday", "cumartesi"),
    "sunday": ("Sunday", "pazar"),
}
# Names: the first eight are in the built-in model's pretraining text; held-out names are never in a training row.
TRAIN_NAMES = ["Ali", "Ayşe", "Mehmet", "Elif", "Can", "Zeynep", "Ada", "Emre", "Deniz", "Selin", "Burak", "Leyla",
               "Tom", "Anna", "Omar", "Sara"]
HELDOUT_NAMES = ["Kerem", "Nehir", "Ozan", "Derya", "Lucas", "Mia", "Hakan", "Nina"]
QTYS = list(range(1, 41))
HELDOUT_QTYS = [4, 9, 13, 17, 22, 26, 31, 38]  # never the quantity of a training row
TRAIN_QTYS = [q for q in QTYS if q not in HELDOUT_QTYS]

TEMPLATES = {
    "train": {
        "en": [
            "{name} orders {qty} {item} for {day}.",
            "Please send {qty} {item} to {name} on {day}.",
            "{name} wants {qty} {item} on {day}.",
            "On {day}, {name} needs {qty} {item}.",
            "Order for {name}: {qty} {item}, {day}.",
            "{name} would like {qty} {item} on {day}.",
        ],
        "tr": [
            "{name} {day} günü {qty} {item} istiyor.",
            "{name} için {day} günü {qty} {item} gönderin.",
            "{day} günü {name} {qty} {item} sipariş etti.",
            "Sipariş: {name}, {qty} {item}, {day}.",
            "{name} {day} için {qty} {item} ısmarladı.",
            "Lütfen {day} günü {name} için {qty} {item} getirin.",
        ],
    },
    "heldout": {
        "en": [
            "Can {name} get {qty} {item} this {day}?",
            "{day}: {qty} {item} for {name}, please.",
        ],
        "tr": [
            "{name}, {day} günü {qty} {item} alacak.",
            "{qty} {item} {day} günü {name} adına hazırlansın.",
        ],
    },
}
SIZES = {"train": 480, "heldout": 80}


def sentence(template: str, lang: str, name: str, qty: int, item: str, day: str) -> str:
    en_one, en_many, tr = ITEMS[item]
    item_words = (en_one if qty == 1 else en_many) if lang == "en" else tr
    day_word = DAYS[day][0 if lang == "en" else 1]
    text = template.format(name=name, qty=qty, item=item_words, day=day_word)
    return text[0].upper() + text[1:]


def order_json(name: str, qty: int, item: str, day: str) -> str:
    return json.dumps({"name": name, "item": item, "qty": qty, "day": day}, ensure_ascii=False, separators=(",", ":"))


def rows_for(part: str, rng: random.Random) -> list[dict]:
    names = TRAIN_NAMES if part == "train" else HELDOUT_NAMES
    qtys = TRAIN_QTYS if part == "train" else HELDOUT_QTYS
    rows, seen = [], set()
    while len(rows) < SIZES[part]:
        lang = "en" if len(rows) % 2 == 0 else "tr"
        t = rng.randrange(len(TEMPLATES[part][lang]))
        name, qty = rng.choice(names), rng.choice(qtys)
        item, day = rng.choice(sorted(ITEMS)), rng.choice(list(DAYS))
        text = sentence(TEMPLATES[part][lang][t], lang, name, qty, item, day)
        if text in seen:
            continue
        seen.add(text)
        rows.append({
            "id": f"order-{part}-{len(rows)}", "instruction": INSTRUCTION, "input": text,
            "output": order_json(name, qty, item, day), "lang": lang, "template": f"{part}-{lang}-{t}",
        })
    return rows


def write(name: str, rows: list[dict]) -> None:
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name}: {len(rows)} rows")


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(SEED)
    for part in ("train", "heldout"):
        write(f"structured-{part}.jsonl", rows_for(part, rng))


if __name__ == "__main__":
    main()
