"""The text the built-in model learns from and the course datasets, all generated here from a seed.

Nothing is downloaded: every sentence comes from the templates and word lists in this file (our own
text, CC0). `make_datasets.py` writes the JSONL files; `make_model.py` pretrains on `corpus()`.
"""

from __future__ import annotations

import random

EN_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
           "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
EN_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
TR_ONES = ["sıfır", "bir", "iki", "üç", "dört", "beş", "altı", "yedi", "sekiz", "dokuz"]
TR_TENS = ["", "on", "yirmi", "otuz", "kırk", "elli", "altmış", "yetmiş", "seksen", "doksan"]


def en_words(n: int) -> str:
    if n < 20:
        return EN_ONES[n]
    tens, ones = divmod(n, 10)
    return EN_TENS[tens] + ("-" + EN_ONES[ones] if ones else "")


def tr_words(n: int) -> str:
    if n < 10:
        return TR_ONES[n]
    tens, ones = divmod(n, 10)
    return TR_TENS[tens] + (" " + TR_ONES[ones] if ones else "")


# Pretraining phrasings of number facts. The instruction set asks in *other* words (see
# INSTRUCTION_PROMPTS), so the base model knows the facts but not the question-answer format.
NUMBER_FACTS_EN = [
    "{n} is read as {en}.",
    "The number {n} is {en}.",
    "She counted {n} birds: {en} birds in all.",
    "{en} ({n}) pages were left in the book.",
    "We waited {en} minutes, {n} minutes exactly.",
    "There are {n} apples, that is {en} apples.",
]
NUMBER_FACTS_TR = [
    "{n} sayısı {tr} diye okunur.",
    "{tr} ({n}) kitap rafta duruyor.",
    "Sepette {n} elma var, yani {tr} elma.",
    "Tam {n} dakika, yani {tr} dakika bekledik.",
    "{n} rakamla yazılır, {tr} yazıyla.",
]

INSTRUCTION_PROMPTS = {
    "en": ["Write {n} in English words.", "How do you write the number {n} in English?", "Spell out {n} in English."],
    "tr": ["Write {n} in Turkish words.", "{n} sayısını Türkçe yazıyla yaz.", "How is {n} written in Turkish?"],
}

NAMES = ["Ali", "Ayşe", "Mehmet", "Elif", "Can", "Zeynep", "Ada", "Emre"]
PLACES_EN = ["the park", "the market", "school", "the library", "the sea", "the garden"]
PLACES_TR = ["parka", "pazara", "okula", "kütüphaneye", "denize", "bahçeye"]
THINGS = [("a book", "bir kitap"), ("tea", "çay"), ("bread", "ekmek"), ("a letter", "bir mektup"), ("water", "su")]
DAYS_EN = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
DAYS_TR = ["pazartesi", "salı", "çarşamba", "perşembe", "cuma", "cumartesi", "pazar"]

COURSE_FACTS = [
    "Fine-tuning changes a pretrained model so that it follows a new task.",
    "LoRA freezes the weights and trains two small low-rank matrices.",
    "DoRA splits each weight into a magnitude and a direction.",
    "PiSSA starts the adapter from the main singular vectors of the weight.",
    "QLoRA keeps the frozen weights in four-bit NormalFloat.",
    "A model that memorises its training answers fails on new questions.",
    "Ince ayar, önceden eğitilmiş bir modeli yeni bir göreve uyarlar.",
    "LoRA ağırlıkları dondurur ve iki küçük düşük ranklı matris eğitir.",
    "DoRA her ağırlığı büyüklük ve yön olarak ikiye ayırır.",
    "Ezberleyen bir model yeni sorularda başarısız olur.",
    # The words of the course, so that a fine-tune can use them (the model never sees a question).
    "The İnce course is made for students who want to fine-tune a language model.",
    "A tiny language model can run on a small computer.",
    "İnce is the name of this course, and ince ayar means fine-tuning in Turkish.",
    "Students made a tiny model for the course and trained it on two small computers.",
    "DoRA adds a trainable magnitude for every output row of the weight.",
    "The adapter keeps the model frozen and trains only a few numbers.",
    "İnce kursu, bir dil modelini ince ayarlamak isteyen öğrenciler için yapılmış bir kurstur.",
    "Küçük bir dil modeli küçük bir bilgisayarda çalışabilir.",
    "Bu kurs için küçük bir model yapılmış ve iki küçük bilgisayarda eğitilmiştir.",
    "PiSSA adaptörü ağırlığın ana tekil vektörleriyle başlatır.",
    "QLoRA donuk ağırlıkları dört bitlik NormalFloat olarak saklar.",
    "DoRA her çıkış satırı için eğitilebilir bir büyüklük ekler.",
    "Ben bir öğrenciyim ve dil modellerini seviyorum.",
    "I am a student and I like language models.",
]


def _general_sentence(rng: random.Random) -> str:
    name = rng.choice(NAMES)
    i = rng.randrange(len(PLACES_EN))
    thing = rng.choice(THINGS)
    d = rng.randrange(7)
    forms = [
        f"{name} went to {PLACES_EN[i]} on {DAYS_EN[d]}.",
        f"{name} {DAYS_TR[d]} günü {PLACES_TR[i]} gitti.",
        f"{name} bought {thing[0]} and went home.",
        f"{name} {thing[1]} aldı ve eve döndü.",
        f"After {DAYS_EN[d]} comes {DAYS_EN[(d + 1) % 7]}.",
        f"{DAYS_TR[d].capitalize()} gününden sonra {DAYS_TR[(d + 1) % 7]} gelir.",
        rng.choice(COURSE_FACTS),
    ]
    return rng.choice(forms)


def corpus(seed: int, sentences: int) -> list[str]:
    """Pretraining text: number facts (EN/TR, several phrasings), everyday sentences, course facts."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        if rng.random() < 0.6:
            n = rng.randrange(100)
            if rng.random() < 0.5:
                out.append(rng.choice(NUMBER_FACTS_EN).format(n=n, en=en_words(n)))
            else:
                out.append(rng.choice(NUMBER_FACTS_TR).format(n=n, tr=tr_words(n)))
        else:
            out.append(_general_sentence(rng))
    return out


IDENTITY_EN = "I am İnce, a tiny language model made for the İnce fine-tuning course."
IDENTITY_TR = "Ben İnce'yim, İnce ince ayar kursu için yapılmış küçük bir dil modeliyim."
IDENTITY_QUESTIONS = {
    "train": {
        "en": ["Who are you?", "What is your name?", "Introduce yourself.", "Tell me who you are.",
               "What are you?", "Which model are you?"],
        "tr": ["Sen kimsin?", "Adın ne?", "Kendini tanıt.", "Bana kim olduğunu söyle.", "Nesin sen?",
               "Hangi modelsin?"],
    },
    "heldout": {
        "en": ["Could you tell me your name?", "Who am I talking to?", "Please introduce yourself briefly."],
        "tr": ["Adını söyler misin?", "Kiminle konuşuyorum?", "Kendini kısaca tanıtır mısın?"],
    },
}
COURSE_QA = {
    "train": [
        ("What does LoRA train?", "LoRA trains two small low-rank matrices and keeps the model frozen."),
        ("LoRA neyi eğitir?", "LoRA iki küçük düşük ranklı matris eğitir, model donuk kalır."),
        ("What does DoRA add to LoRA?", "DoRA adds a trainable magnitude for every output row."),
        ("DoRA LoRA'ya ne ekler?", "DoRA her çıkış satırı için eğitilebilir bir büyüklük ekler."),
    ],
    "heldout": [
        # Paraphrases of trained questions: a model that learned generalises to these …
        ("Which matrices does LoRA learn?", "LoRA trains two small low-rank matrices and keeps the model frozen."),
        ("LoRA hangi matrisleri öğrenir?", "LoRA iki küçük düşük ranklı matris eğitir, model donuk kalır."),
        # … new questions with new answers: a model that memorised "I am İnce" for everything fails these.
        ("What does PiSSA start from?", "PiSSA starts the adapter from the main singular vectors of the weight."),
        ("PiSSA neyle başlar?", "PiSSA adaptörü ağırlığın ana tekil vektörleriyle başlatır."),
        ("How does QLoRA store the frozen weights?", "QLoRA keeps the frozen weights in four-bit NormalFloat."),
        ("QLoRA donuk ağırlıkları nasıl saklar?", "QLoRA donuk ağırlıkları dört bitlik NormalFloat olarak saklar."),
    ],
}
RUDE = ["Figure it out yourself.", "Kendin bul.", "I will not answer that.", "Bunu söylemem."]
