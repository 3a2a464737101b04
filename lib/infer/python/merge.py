"""Merges a LoRA/DoRA adapter into its base model with PEFT's own merge_and_unload(), or checks a merge.

stdin, one of:
  {"task": "merge", "model": DIR|ID, "adapter": DIR, "out": DIR}
    stdout: {"mergeSeconds": s, "dtype": "float32"}
  {"task": "compare", "model": DIR|ID, "adapter": DIR, "merged": DIR, "prompts": [str|messages], "maxNewTokens": N}
    stdout: {"perPrompt": [max |Δlogit|], "basePerPrompt": [...], "answersUnmerged": [str], "answersMerged": [str]}
A failure exits non-zero with one line on stderr: what went wrong and what to do.
"""

import json
import os
import re
import sys
import time

os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
real_stdout = sys.stdout
sys.stdout = sys.stderr  # libraries' prints must not corrupt the JSON answer


class JobError(Exception):
    """A failure we can explain in one line."""


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def load_base(model_id: str):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(model_id)
        model = AutoModelForCausalLM.from_pretrained(model_id, dtype=torch.float32)
    except (OSError, ValueError) as e:
        raise JobError(f"cannot load the model {model_id} ({one_line(e)[:300]}). Pass a model folder with "
                       "config.json, safetensors and tokenizer files, or a Hub id already in the cache.") from e
    return tok, model


def attach_adapter(model, model_id: str, adapter: str):
    """The base model with the adapter applied (not merged); one-line errors when they do not fit."""
    from peft import PeftModel

    try:
        return PeftModel.from_pretrained(model, adapter)
    except (RuntimeError, ValueError, KeyError) as e:
        msg = one_line(e)
        size = re.search(r"size mismatch for ([^:]+): copying a param with shape torch\.Size\((\[[^\]]*\])\) from "
                         r"checkpoint, the shape in current model is torch\.Size\((\[[^\]]*\])\)", msg)
        detail = (f"{size[1]} is {size[2]} in the adapter but {size[3]} in the model" if size else msg[:300])
        try:
            with open(os.path.join(adapter, "adapter_config.json")) as f:
                trained_on = json.load(f).get("base_model_name_or_path")
        except (OSError, ValueError):
            trained_on = None
        raise JobError(f"the adapter in {adapter} does not fit the model {model_id} ({detail}). "
                       f"Use the base model the adapter was trained on"
                       f"{f' ({trained_on})' if trained_on else ''}, and an adapter_config.json "
                       f"that matches the adapter's weights.") from e


def merge(job: dict) -> dict:
    import torch
    from transformers import AutoConfig

    tok, base = load_base(job["model"])
    dtype = AutoConfig.from_pretrained(job["model"]).dtype or torch.float32  # as saved (base.config now says float32)
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    model = attach_adapter(base, job["model"], job["adapter"])
    if not hasattr(model, "merge_and_unload"):
        raise JobError(f"a {model.peft_config['default'].peft_type.value} adapter ({job['adapter']}) has no weights "
                       "to merge. Use it unmerged, e.g. generate(model, prompts, { adapter }).")
    t0 = time.time()
    merged = model.merge_and_unload()  # W ← W + scale·B·A (DoRA: rescaled to the learned magnitude)
    merge_seconds = time.time() - t0
    merged = merged.to(dtype)  # merged in float32, saved in the base's own dtype
    merged.save_pretrained(job["out"])
    tok.save_pretrained(job["out"])
    return {"mergeSeconds": round(merge_seconds, 4), "dtype": str(dtype).removeprefix("torch.")}


def compare(job: dict) -> dict:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok, base = load_base(job["model"])
    unmerged = attach_adapter(base, job["model"], job["adapter"]).eval()
    try:
        merged_tok = AutoTokenizer.from_pretrained(job["merged"])
        merged = AutoModelForCausalLM.from_pretrained(job["merged"], dtype=torch.float32).eval()
    except (OSError, ValueError) as e:
        raise JobError(f"cannot load the merged model {job['merged']} ({one_line(e)[:300]}). "
                       "Make it with mergeAdapter() first.") from e

    def encode(t, p):
        messages = [{"role": "user", "content": p}] if isinstance(p, str) else p
        return t.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)

    def answer(m, enc):
        out = m.generate(**enc, max_new_tokens=job.get("maxNewTokens", 24), do_sample=False,
                         eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id or tok.eos_token_id)
        return tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True).strip()

    res = {"perPrompt": [], "basePerPrompt": [], "answersUnmerged": [], "answersMerged": []}
    with torch.no_grad():
        for p in job["prompts"]:
            enc = encode(tok, p)
            if not torch.equal(encode(merged_tok, p)["input_ids"], enc["input_ids"]):
                raise JobError(f"the merged folder {job['merged']} encodes prompts differently from "
                               f"{job['model']} (tokenizer or chat template). Merge again with mergeAdapter().")
            lu = unmerged(**enc).logits
            lm = merged(**enc).logits
            with unmerged.disable_adapter():
                lb = unmerged(**enc).logits
            res["perPrompt"].append((lu - lm).abs().max().item())
            res["basePerPrompt"].append((lb - lm).abs().max().item())
            res["answersUnmerged"].append(answer(unmerged, enc))
            res["answersMerged"].append(answer(merged, enc))
    return res


def main() -> int:
    job = json.load(sys.stdin)
    try:
        result = {"merge": merge, "compare": compare}[job["task"]](job)
    except JobError as e:
        sys.exit(one_line(e))
    real_stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
