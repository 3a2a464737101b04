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
