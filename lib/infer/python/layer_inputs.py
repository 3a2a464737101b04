"""Records the inputs of one linear module of a model on some prompts (a forward pre-hook), for
calibration-aware quantization (GPTQ) and for measuring output error on held-out prompts.

Each prompt is run alone, as a user message through the model's chat template with the generation
prompt, so the activations are those the model sees when asked that question.

stdin: {"model": DIR, "module": "model.layers.2.mlp.down_proj", "prompts": [str], "maxTokens": N|null,
        "out": PATH}
stdout: {"rows": tokens, "cols": in_features, "tokensPerPrompt": [n], "seconds": s}; the inputs as
        float32 [tokens, in_features] under "inputs" in the safetensors file PATH.
"""

import os
import sys
import time

from _job import answer, load_model, read_job


def main() -> int:
    job = read_job()
    import torch
    from safetensors.torch import save_file

    t0 = time.time()
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    tok, model = load_model(job["model"])
    name = job["module"]
    try:
        module = model.get_submodule(name)
    except AttributeError:
        linear = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
        print(f"Module {name!r} is not in {job['model']}; linear modules are e.g. {', '.join(linear[:4])} "
              f"({len(linear)} in all).", file=sys.stderr)
        return 1
    if not isinstance(module, torch.nn.Linear):
        print(f"Module {name!r} is a {type(module).__name__}, not a Linear layer; pick a projection such as "
              "model.layers.0.mlp.down_proj.", file=sys.stderr)
        return 1
    seen = []
    hook = module.register_forward_pre_hook(lambda _m, args: seen.append(args[0].detach().reshape(-1, module.in_features)))
    counts = []
    limit = job.get("maxTokens")
    with torch.no_grad():
        for p in job["prompts"]:
            messages = [{"role": "user", "content": p}] if isinstance(p, str) else p
            enc = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt", return_dict=True)
            model(**enc)
            counts.append(int(seen[-1].shape[0]))
            if limit is not None and sum(counts) >= limit:
                break
    hook.remove()
    x = torch.cat(seen).float() if seen else torch.zeros(0, module.in_features)
    if limit is not None:
        x = x[:limit]
    save_file({"inputs": x.contiguous()}, job["out"], metadata={"model": job["model"], "module": name})
    answer({"rows": int(x.shape[0]), "cols": int(x.shape[1]), "tokensPerPrompt": counts,
            "seconds": round(time.time() - t0, 3)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
