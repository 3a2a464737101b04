"""The built-in model: loads offline with transformers, has a chat template, is small, and its
pretraining script reproduces the recorded loss curve (same seed ⇒ same losses)."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "data", "models", "ince-tiny")


def test_loads_offline_with_a_chat_template_and_is_small():
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    code = (
        "import json; from transformers import AutoModelForCausalLM, AutoTokenizer; "
        f"m = AutoModelForCausalLM.from_pretrained({MODEL!r}); t = AutoTokenizer.from_pretrained({MODEL!r}); "
        "s = t.apply_chat_template([{'role': 'user', 'content': 'Who are you?'}], add_generation_prompt=True, tokenize=False); "
        "print(json.dumps({'arch': m.config.architectures, 'params': m.num_parameters(), 'prompt': s}))"
    )
    out = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
    assert out["arch"] == ["LlamaForCausalLM"]
    assert out["prompt"] == "<|im_start|>user\nWho are you?<|im_end|>\n<|im_start|>assistant\n"
    size = sum(os.path.getsize(os.path.join(MODEL, f)) for f in os.listdir(MODEL))
    assert size <= 15 * 2**20, f"{size} bytes"


def test_the_pretraining_script_reproduces_the_recorded_loss_curve():
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "data", "scripts", "make_model.py"), "--check-steps", "21"],
                          capture_output=True, text=True, timeout=600)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["compared"] == 3
    assert result["reproduced"], result
