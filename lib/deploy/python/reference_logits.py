"""The PyTorch reference for an exported model: how transformers tokenizes chat examples and the float32 logits
of every position of each example (prompt + answer), written compactly to one float32 file.

stdin: {"model": DIR, "examples": [{"prompt": [messages], "answer": str}], "logitsFile": FILE}
For each example: the prompt as `apply_chat_template(add_generation_prompt=True)` renders and tokenizes it
(what `generate()` feeds the model), the full chat with the answer tokenized as score.py does
(`add_special_tokens=False`), its decodings, and the logits of the full ids (model(input_ids, use_cache=False)).
stdout: {"vocab": V, "sequences": [{"promptText", "promptIds", "fullText", "fullIds", "decoded", "decodedSkip",
         "offset"}]} — the logits of sequence i are `len(fullIds) × V` float32 numbers (native byte order)
         starting at float index `offset` of logitsFile.
"""

import sys

from _job import answer, load_model, read_job


def main() -> int:
    job = read_job()
    import numpy as np
    import torch

    torch.set_num_threads(1)
    tok, model = load_model(job["model"])
    sequences, offset = [], 0
    with open(job["logitsFile"], "wb") as f, torch.no_grad():
        for ex in job["examples"]:
            messages = ex["prompt"]
            prompt_text = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
            prompt_ids = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=True,
                                                 return_dict=True)["input_ids"]
            full_text = tok.apply_chat_template(messages + [{"role": "assistant", "content": ex["answer"]}],
                                                tokenize=False)
            full_ids = tok(full_text, add_special_tokens=False)["input_ids"]
            logits = model(input_ids=torch.tensor([full_ids]), use_cache=False).logits[0]
            data = logits.to(torch.float32).numpy().astype(np.float32, copy=False)
            f.write(data.tobytes())
            sequences.append({"promptText": prompt_text, "promptIds": list(prompt_ids), "fullText": full_text,
                              "fullIds": full_ids, "decoded": tok.decode(full_ids, skip_special_tokens=False),
                              "decodedSkip": tok.decode(full_ids, skip_special_tokens=True), "offset": offset})
            offset += data.size
    answer({"vocab": int(model.config.vocab_size), "sequences": sequences})
    return 0


if __name__ == "__main__":
    sys.exit(main())
