"""What every job in this folder shares: the JSON job on stdin, the JSON answer as the last stdout line
(library prints go to stderr so they cannot corrupt it), and loading a model with an optional adapter.
`lib/infer/_python_job.ts` is the other end.
"""

import json
import os
import sys

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
_real_stdout = sys.stdout
sys.stdout = sys.stderr  # libraries' prints must not corrupt the JSON answer


def read_job() -> dict:
    return json.load(sys.stdin)


def answer(obj: dict) -> None:
    _real_stdout.write(json.dumps(obj) + "\n")
    _real_stdout.flush()


def load_model(model_id: str, adapter: str | None = None):
    """The tokenizer and the model in fp32, in eval mode, with a PEFT adapter applied when one is given."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_id)
    model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)
    if adapter:
        from peft import PeftModel
        model = PeftModel.from_pretrained(model, adapter)
    return tok, model.eval()


def chat_completion_ids(tok, messages: list, answer: str):
    """A chat example as the trainer's completion-only loss sees it: the prompt's ids (the chat template with the
    generation prompt), the whole chat's ids with the answer, and labels that mask the prompt with -100."""
    prompt = tok.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    full = tok.apply_chat_template(messages + [{"role": "assistant", "content": answer}], tokenize=False)
    prompt_ids = tok(prompt, add_special_tokens=False)["input_ids"]
    ids = tok(full, add_special_tokens=False)["input_ids"]
    return prompt_ids, ids, [-100] * len(prompt_ids) + ids[len(prompt_ids):]
