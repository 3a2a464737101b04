"""Writes lesson 05's bilingual glossary data under data/datasets/ (deterministic; run from the repo root).

  glossary.jsonl          the glossary itself: one row per course term, {term, aliases, en, tr, tokens}: a
                          one-sentence definition in English and in Turkish (short: the built-in model's context
                          is 256 tokens), and each definition's length in the built-in model's tokens
  glossary-train.jsonl    questions about each term (messages shape) from TRAIN_TEMPLATES, English and Turkish;
                          the answer is the term's definition in the question's language
  glossary-heldout.jsonl  the same terms asked with HELDOUT_TEMPLATES (phrasings never trained on), plus questions
                          that name a term by its long name (an alias, e.g. "mixture of experts" for MoE) that
                          no training question uses

Every row carries `term`, `lang` ("en"/"tr") and `template` (its template's id) next to `messages`, so tests
can check that no held-out question or template appears in training.
"""

import json
import os

from tokenizers import Tokenizer

DATA = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(DATA, "datasets")
TOKENIZER = os.path.join(DATA, "models", "ince-tiny", "tokenizer.json")

# term, aliases (English long name, Turkish long name, or None), English definition, Turkish definition.
GLOSSARY = [
    ("LoRA", ("low-rank adaptation", "düşük ranklı uyarlama"),
     "LoRA trains two small low-rank matrices next to a frozen weight.",
     "LoRA donuk bir ağırlığın yanında iki küçük düşük ranklı matris eğitir."),
    ("DoRA", ("weight-decomposed low-rank adaptation", "ayrıştırılmış düşük ranklı uyarlama"),
     "DoRA splits a weight into a magnitude and a direction and trains both.",
     "DoRA ağırlığı büyüklük ve yön olarak ayırır ve ikisini de eğitir."),
    ("QLoRA", ("quantized low-rank adaptation", "nicemlenmiş düşük ranklı uyarlama"),
     "QLoRA trains LoRA on a base model stored in four bits.",
     "QLoRA dört bitte saklanan bir model üstünde LoRA eğitir."),
    ("NF4", ("four-bit NormalFloat", "dört bitlik NormalFloat"),
     "NF4 is a four-bit format whose levels are normal quantiles.",
     "NF4 seviyeleri normal dağılımdan gelen dört bitlik bir biçimdir."),
    ("PiSSA", ("principal singular values adaptation", "ana tekil değer uyarlaması"),
     "PiSSA starts the adapter from the top singular vectors of the weight.",
     "PiSSA adaptörü ağırlığın en büyük tekil vektörleriyle başlatır."),
    ("rank", ("the LoRA rank r", "LoRA rankı r"),
     "The rank r is the inner size of the two LoRA matrices.",
     "Rank r iki LoRA matrisinin iç boyutudur."),
    ("alpha", ("the LoRA scaling factor", "LoRA ölçek katsayısı"),
     "Alpha scales the LoRA update by alpha divided by r.",
     "Alfa LoRA güncellemesini alfa bölü r ile ölçekler."),
    ("adapter", ("a PEFT module", "bir PEFT modülü"),
     "An adapter is a small set of new weights trained on a frozen model.",
     "Adaptör donuk bir model üstünde eğitilen küçük yeni ağırlıklardır."),
    ("DPO", ("direct preference optimization", "doğrudan tercih optimizasyonu"),
     "DPO trains a model to prefer the chosen answer over the rejected one.",
     "DPO modeli reddedilen yanıt yerine seçilen yanıtı seçmeye eğitir."),
    ("MoE", ("mixture of experts", "uzmanlar karışımı"),
     "A mixture of experts sends each token to a few expert networks.",
     "Uzmanlar karışımı her tokeni birkaç uzman ağa gönderir."),
    ("rsLoRA", ("rank-stabilized LoRA", "rank kararlı LoRA"),
     "rsLoRA scales the update by alpha over the square root of r.",
     "rsLoRA güncellemeyi alfa bölü r'nin karekökü ile ölçekler."),
    ("quantization", ("storing weights in fewer bits", "ağırlıkları az bitle saklamak"),
     "Quantization stores the weights of a model with fewer bits.",
     "Nicemleme modelin ağırlıklarını daha az bitle saklar."),
    ("GPTQ", ("GPT quantization", "GPT nicemlemesi"),
     "GPTQ rounds a weight column by column and corrects the error.",
     "GPTQ ağırlığı sütun sütun yuvarlar ve hatayı düzeltir."),
    ("overfitting", ("memorising the training set", "eğitim setini ezberlemek"),
     "Overfitting is when the held-out loss rises while the training loss falls.",
     "Aşırı öğrenme eğitim kaybı düşerken ayrılmış kaybın yükselmesidir."),
    ("learning rate", ("the step size", "adım büyüklüğü"),
     "The learning rate sets how big each optimizer step is.",
     "Öğrenme oranı her optimizasyon adımının büyüklüğünü belirler."),
    ("tokenizer", ("the text splitter", "metin bölücü"),
     "A tokenizer splits text into the tokens a model reads.",
     "Tokenizer metni modelin okuduğu tokenlere böler."),
    ("LoRA+", ("LoRA plus", "LoRA artı"),
     "LoRA+ gives the B matrix a larger learning rate than A.",
     "LoRA+ B matrisine A matrisinden büyük bir öğrenme oranı verir."),
    ("full fine-tuning", ("training every weight", "tüm ağırlıkları eğitmek"),
     "Full fine-tuning trains every weight of the model.",
     "Tam ince ayar modelin bütün ağırlıklarını eğitir."),
    ("RAG", ("retrieval-augmented generation", "erişimle güçlendirilmiş üretim"),
     "RAG adds retrieved passages to the prompt before the model answers.",
     "RAG model yanıtlamadan önce bulunan metinleri isteme ekler."),
    ("gradient checkpointing", ("activation recomputation", "aktivasyonları yeniden hesaplama"),
     "Gradient checkpointing saves memory by recomputing activations.",
     "Gradyan checkpointing aktivasyonları yeniden hesaplayarak bellek kazanır."),
]

# Question phrasings. `{t}` is the term. Held-out phrasings never occur in training.
TRAIN_TEMPLATES = {
    "en": ["What is {t}?", "Define {t}.", "Explain {t} briefly.", "What does {t} mean?"],
    "tr": ["{t} nedir?", "{t} ne demek?", "{t} terimini tanımla.", "{t} kısaca nedir?"],
}
HELDOUT_TEMPLATES = {
    "en": ["Could you tell me what {t} is?", "In one sentence, what is {t}?"],
    "tr": ["Bana {t} kavramını açıklar mısın?", "Tek cümleyle {t} ne anlama gelir?"],
}
# Asked with the term's long name instead of the term (held out as well).
ALIAS_TEMPLATE = {"en": "What is meant by {t}?", "tr": "{t} ne demektir?"}


def write(name, rows):
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name}: {len(rows)} rows")


def row(split, term, lang, template_id, question, answer):
    return {"id": f"gloss-{split}-{lang}-{term.replace(' ', '_')}-{template_id}", "term": term, "lang": lang,
            "template": template_id, "messages": [{"role": "user", "content": question},
                                                  {"role": "assistant", "content": answer}]}


def main():
    os.makedirs(OUT, exist_ok=True)
    tok = Tokenizer.from_file(TOKENIZER)
    n_tokens = lambda text: len(tok.encode(text, add_special_tokens=False).ids)  # noqa: E731
    write("glossary.jsonl", [{"term": t, "aliases": {"en": a[0], "tr": a[1]}, "en": en, "tr": tr,
                              "tokens": {"en": n_tokens(en), "tr": n_tokens(tr)}} for t, a, en, tr in GLOSSARY])
    train, heldout = [], []
    for term, aliases, en, tr in GLOSSARY:
        answers = {"en": en, "tr": tr}
        for lang in ("en", "tr"):
            for i, tpl in enumerate(TRAIN_TEMPLATES[lang]):
                train.append(row("train", term, lang, f"{lang}-train-{i}", tpl.format(t=term), answers[lang]))
            for i, tpl in enumerate(HELDOUT_TEMPLATES[lang]):
                heldout.append(row("heldout", term, lang, f"{lang}-heldout-{i}", tpl.format(t=term), answers[lang]))
            heldout.append(row("heldout", term, lang, f"{lang}-alias", ALIAS_TEMPLATE[lang].format(t=aliases[0 if lang == "en" else 1]),
                               answers[lang]))
    write("glossary-train.jsonl", train)
    write("glossary-heldout.jsonl", heldout)


if __name__ == "__main__":
    main()
