"""Schema-constrained JSON decoding: the JSON skeleton (braces, keys, quotes, commas) is written by the schema,
the model only chooses each field's value, and only among tokens the field's type allows — the same idea as
llama.cpp's GBNF grammars or the `outlines` library, written out for flat objects of strings, integers and enums.

stdin: {"model": DIR, "adapter": DIR|null, "prompts": [str], "maxFieldTokens": N,
        "fields": [{"key": str, "type": "string"|"integer"|"enum", "values": [str]?}]}
stdout: {"outputs": [str], "seconds": s}

Per field, greedy decoding under a token mask:
- string:  any token without `"`, `\\`, control characters or special tokens; the lone `"` token closes the
           value (not allowed as the first token: values are non-empty). Closed by force after maxFieldTokens.
- integer: tokens made only of digits (no leading zero); `,` or `}` (what follows the field) ends it.
- enum:    tokens that keep the text a prefix of `<value>"` for some allowed value; done at the closing quote.
"""

import os
import sys
import time

from _job import answer, load_model, read_job


def main() -> int:
    job = read_job()
    import torch

    torch.set_num_threads(int(os.environ.get("INCE_TORCH_THREADS", "1")))  # one token at a time: threads only wait
    t0 = time.time()
    tok, model = load_model(job["model"], job.get("adapter"))
    fields = job["fields"]
    max_tokens = int(job.get("maxFieldTokens", 8))
    vocab = len(tok)
    texts = [tok.decode([i]) for i in range(vocab)]
    special = set(tok.all_special_ids)
    quote = tok.encode('"', add_special_tokens=False)
    if len(quote) != 1:
        raise SystemExit("The tokenizer has no single token for `\"`; this decoder needs one to close string values.")
    quote = quote[0]

    def ids(text):
        return tok.encode(text, add_special_tokens=False)

    string_ok = torch.tensor([i not in special and texts[i] != "" and '"' not in texts[i] and "\\" not in texts[i]
                              and all(ord(c) >= 32 for c in texts[i]) for i in range(vocab)])
    digit_ok = torch.tensor([texts[i].isdigit() and texts[i].isascii() for i in range(vocab)])

    def next_token(state, allowed):
        """Feeds the tokens not yet seen (state["pending"]) through the model with its KV cache; the greedy
        token among the allowed ones."""
        with torch.no_grad():
            out = model(input_ids=torch.tensor([state["pending"]]), past_key_values=state["past"], use_cache=True)
        state["past"], state["pending"] = out.past_key_values, []
        logits = out.logits[0, -1].masked_fill(~allowed, float("-inf"))
        return int(torch.argmax(logits))

    no_leading_zero = torch.tensor([not texts[i].startswith("0") for i in range(vocab)])
    outputs = []
    for prompt in job["prompts"]:
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        enc = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True, return_dict=True)
        state = {"pending": list(enc["input_ids"]) + ids("{"), "past": None}
        out = "{"
        for k, field in enumerate(fields):
            after = "," if k < len(fields) - 1 else "}"
            head = f'"{field["key"]}":' + ('"' if field["type"] in ("string", "enum") else "")
            out += head
            state["pending"] += ids(head)
            if field["type"] == "string":
                value_ids = []
                for step in range(max_tokens):
                    allowed = string_ok.clone()
                    allowed[quote] = step > 0
                    t = next_token(state, allowed)
                    if t == quote:
                        break
                    value_ids.append(t)
                    state["pending"].append(t)
                out += tok.decode(value_ids) + '"'
                state["pending"].append(quote)
            elif field["type"] == "integer":
                value_ids, end = [], ids(after)[0]
                for step in range(max_tokens):
                    allowed = digit_ok & no_leading_zero if step == 0 else digit_ok.clone()
                    if step > 0:
                        allowed[end] = True
                    t = next_token(state, allowed)
                    if t == end:
                        break
                    value_ids.append(t)
                    state["pending"].append(t)
                out += tok.decode(value_ids)
            elif field["type"] == "enum":
                targets = [v + '"' for v in field["values"]]
                text = ""
                while not text.endswith('"'):
                    allowed = torch.tensor([i not in special and texts[i] != "" and
                                            any(v.startswith(text + texts[i]) for v in targets) for i in range(vocab)])
                    if not allowed.any():
                        raise SystemExit(f"No token continues the enum value {text!r} of field {field['key']!r}.")
                    t = next_token(state, allowed)
                    text += texts[t]
                    state["pending"].append(t)
                out += text
            else:
                raise SystemExit(f"Field {field['key']!r} has type {field['type']!r}; use string, integer or enum.")
            out += after
            state["pending"] += ids(after) if k < len(fields) - 1 else []
        outputs.append(out)
    answer({"outputs": outputs, "seconds": round(time.time() - t0, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
