"""Backend "unsloth": the same run config through Unsloth's FastLanguageModel (pinned: Unsloth 2026.10.9).

The trainer (trainer.py) calls, when cfg["backend"] == "unsloth":
  unavailable_reason(device)  -> None, or ONE sentence: what is missing and the alternative (never imports unsloth)
  check_config(cfg, ax)       -> None, or ONE sentence naming the run-config field Unsloth cannot do (pure dict checks)
  load(cfg, ax, dtype, max_length) -> (model, tokenizer): FastLanguageModel.from_pretrained + get_peft_model
and then trains the returned PEFT model with TRL exactly as for backend "peft", so the events are the same.
`python unsloth_backend.py` answers {"available", "reason", "version"} for a {"device"} job on stdin
(lib/train/unsloth.ts `unslothStatus()`).

What maps where (unsloth/models/loader.py FastLanguageModel.from_pretrained; models/llama.py get_peft_model):
  model                  -> from_pretrained(model_name=..., use_exact_model_name=True): the same weights as "peft"
                            (without it Unsloth swaps a Hub id for its own pre-quantized "unsloth/...-bnb-4bit" copy)
  train.maxLength        -> max_seq_length
  dtype (resolved)       -> dtype
  quant "nf4"            -> load_in_4bit=True: BitsAndBytesConfig(nf4, double quant, compute dtype = dtype; lm_head
                            not quantized) — the same settings as trainer.py's peft path. quant "none" ->
                            load_in_4bit=False (Unsloth's default is True: passed explicitly)
  lora.r / alpha         -> r / lora_alpha
  lora.dropout           -> lora_dropout (fused into Unsloth's LoRA kernels, kernels/fast_lora.py FUSED_LORA_DROPOUT)
  lora.targetModules     -> target_modules ("all-linear" = q,k,v,o,gate,up,down _proj, as trainer.ALL_LINEAR)
  scaling "rslora"       -> use_rslora=True (alpha/sqrt(r))
  adapter "dora"         -> use_dora=True (passed through **kwargs to peft.LoraConfig; DoRA layers run PEFT's DoRA
                            forward, not Unsloth's fused LoRA kernels: llama.py patch_peft_model skips any projection
                            with a lora_magnitude_vector, kernels/fast_lora.py _needs_peft_forward)
  init gaussian/olora/pissa -> init_lora_weights "gaussian" / "olora" / "pissa_niter_<lora.pissaNiter, 4>"
                            (models/_utils.py validate_init_lora_weights; PiSSA needs unquantized weights)
  train.gradientCheckpointing -> use_gradient_checkpointing="unsloth" (activations offloaded to CPU RAM; below
                            512 tokens Unsloth itself switches to plain checkpointing, _utils.py
                            apply_unsloth_gradient_checkpointing), else False
  train.seed             -> random_state
Refused (check_config): fullFineTune, peftType other than lora, init pissa with quant nf4, train.liger, train.compile.

What Unsloth changes numerically, against backend "peft" on the same config (so curves agree to bf16 noise, not bits):
  - its own Triton kernels for RMSNorm, RoPE, SwiGLU/GeGLU, the LoRA matmuls (hand-written backward) and a chunked
    cross-entropy: different summation order;
  - LoRA dropout masks come from its fused kernel's RNG, not nn.Dropout's (same rate, different masks);
  - PiSSA's SVD is its own randomized fp32 SVD (models/lora_init.py fast_lora_init; UNSLOTH_FAST_LORA_INIT=0
    restores PEFT's);
  - a missing pad token (or pad == eos) becomes a reserved pad-like token (unsloth_zoo tokenizer_utils
    patch_tokenizer), where the peft path uses eos; TRL's completion mask keeps the loss on the same tokens;
  - padding-free batching is auto-enabled by Unsloth's SFTTrainer only when padding_free is left unset (None);
    ince always passes train.paddingFree explicitly, so batching is the same as for "peft".
Import order: unsloth must be imported before transformers, trl and peft (it patches them on import; otherwise it
warns and the unpatched code runs). load() imports it; trainer.py imports it first when backend == "unsloth".
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sys

UNSLOTH_VERSION = "2026.10.9"
ALL_LINEAR = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
# Unsloth 2026.10.9's declared ranges (its METADATA): versions outside them are refused, not tried.
SUPPORTED = {"torch": ("2.4.0", "2.15.0", False), "transformers": ("4.52.4", "5.17.0", True),
             "trl": ("0.18.2", "1.15.0", True)}  # name: (lowest, highest, highest included)
_PEFT = 'use backend "peft" (the same run config and events)'
_SETUP = "`deno task setup --unsloth`"
# How the `method` word presets quant/init (trainer.py PRESETS has the full table; only these two axes matter here).
_PRESET_QUANT_INIT = {"qlora": ("nf4", "default"), "qdora": ("nf4", "default"), "pissa": ("none", "pissa"),
                      "olora": ("none", "olora")}


def _version_tuple(v: str) -> tuple:
    out = []
    for part in v.split("+")[0].split("."):
        digits = "".join(ch for ch in part if ch.isdigit())
        out.append(int(digits) if digits else 0)
    return tuple(out + [0] * (4 - len(out)))


def _outside(name: str, version: str) -> bool:
    low, high, inclusive = SUPPORTED[name]
    v = _version_tuple(version)
    return v < _version_tuple(low) or (v > _version_tuple(high) if inclusive else v >= _version_tuple(high))


def unavailable_reason(device: str) -> str | None:
    """None when Unsloth can run here on `device` ("cuda": PyTorch sees a CUDA or ROCm GPU; anything else: no GPU);
    else one sentence naming what is missing and the alternative. Never imports unsloth (its import needs a GPU)."""
    if device != "cuda":
        return (f"Unsloth needs an NVIDIA (CUDA) or AMD (ROCm) GPU and PyTorch sees none here; {_PEFT}, "
                f"or run on a GPU machine after {_SETUP}.")
    if importlib.util.find_spec("unsloth") is None:
        return (f"Unsloth is not installed in this Python environment ({sys.prefix}); run {_SETUP} on this GPU "
                f"machine and train with its Python, or {_PEFT}.")
    installed = {n: importlib.metadata.version(n) for n in ("unsloth", "unsloth_zoo", *SUPPORTED)}
    if installed["unsloth"] != UNSLOTH_VERSION or installed["unsloth_zoo"] != UNSLOTH_VERSION:
        return (f"Unsloth {installed['unsloth']} / unsloth_zoo {installed['unsloth_zoo']} is installed but ince pins "
                f"{UNSLOTH_VERSION}; run {_SETUP}, or {_PEFT}.")
    bad = [f"{n} {installed[n]}" for n in SUPPORTED if _outside(n, installed[n])]
    if bad:
        return (f"This Python environment has {', '.join(bad)}, outside Unsloth {UNSLOTH_VERSION}'s supported range "
                f"(torch < 2.15, transformers ≤ 5.17.0, trl ≤ 1.15.0); train with the Python of Unsloth's own "
                f"environment ({_SETUP}), or {_PEFT}.")
    import torch
    if torch.version.hip is None and torch.cuda.get_device_capability(0) < (7, 0):
        major, minor = torch.cuda.get_device_capability(0)
        return (f"Unsloth's Triton kernels need an NVIDIA GPU of compute capability 7.0 or newer and "
                f"{torch.cuda.get_device_name(0)} is {major}.{minor}; {_PEFT}.")
    return None


def _quant_init(cfg: dict, ax: dict | None) -> tuple[str, str]:
    if ax is not None:
        return ax["quant"], ax["init"]
    quant, init = _PRESET_QUANT_INIT.get(cfg.get("method") or "lora", ("none", "default"))
    return cfg.get("quant") or quant, cfg.get("init") or init


def check_config(cfg: dict, ax: dict | None = None) -> str | None:
    """None when backend "unsloth" can train this run config; else one sentence naming the field and what to do.
    Pure dict checks (no unsloth, no torch), so it runs on a CPU. `ax` is trainer.axes(cfg) when the caller has it;
    without it the `method` preset and the explicit quant/init fields are read here."""
    train = cfg.get("train") or {}
    quant, init = _quant_init(cfg, ax)
    if cfg.get("fullFineTune"):
        return ('field fullFineTune: backend "unsloth" trains LoRA/QLoRA/DoRA adapters here (its '
                f'FastLanguageModel.get_peft_model); for a full fine-tune {_PEFT}.')
    kind = cfg.get("peftType", "lora")
    if kind != "lora":
        return (f'field peftType: Unsloth makes LoRA adapters only (FastLanguageModel.get_peft_model), not {kind}; '
                f'set peftType "lora" or {_PEFT}.')
    if init == "pissa" and quant == "nf4":
        return ('field init: Unsloth initialises PiSSA from unquantized weights only (it refuses a 4-bit model); '
                f'use quant "none" with init "pissa", or {_PEFT}.')
    if train.get("liger"):
        return ("field train.liger: Unsloth brings its own fused Triton kernels (RMSNorm, RoPE, SwiGLU, LoRA, "
                'cross-entropy) and Liger would patch the same modules again; leave train.liger off with backend "unsloth".')
    if train.get("compile"):
        return ("field train.compile: Unsloth compiles its own kernels and patches torch.compile; leave train.compile "
                'off with backend "unsloth".')
    return None


def load(cfg: dict, ax: dict, dtype, max_length: int):
    """The model with its LoRA adapter already added, and the tokenizer, both from Unsloth (a GPU and Unsloth
    installed: call unavailable_reason first). Raises ValueError (one sentence, a field named) for what
    check_config refuses or a model that cannot be loaded."""
    reason = check_config(cfg, ax)
    if reason:
        raise ValueError(reason)
    from unsloth import FastLanguageModel  # before transformers/trl/peft are used: it patches them

    lora, train = cfg["lora"], cfg["train"]
    checkpointing = "unsloth" if train.get("gradientCheckpointing") else False
    try:
        model, tokenizer = FastLanguageModel.from_pretrained(
            model_name=cfg["model"], max_seq_length=max_length, dtype=dtype,
            load_in_4bit=ax["quant"] == "nf4", load_in_8bit=False, load_in_16bit=ax["quant"] != "nf4",
            full_finetuning=False, use_exact_model_name=True, use_gradient_checkpointing=checkpointing,
            random_state=train["seed"],
        )
    except OSError as e:
        raise ValueError(f"field model: Unsloth cannot load {cfg['model']}: {str(e).splitlines()[0]}") from None
    if ax["quant"] == "nf4" and not getattr(model, "is_loaded_in_4bit", False):
        # loader.py drops 4-bit with a print when bitsandbytes is unusable here (some AMD stacks): never train 16-bit
        # under the name nf4.
        raise ValueError('field quant: Unsloth could not load the model in 4-bit NF4 on this GPU (bitsandbytes is '
                         f'unavailable to it); use quant "none", or {_PEFT}.')
    targets = ALL_LINEAR if lora["targetModules"] == "all-linear" else list(lora["targetModules"])
    init = {"default": True, "gaussian": "gaussian", "olora": "olora",
            "pissa": f"pissa_niter_{lora.get('pissaNiter', 4)}"}[ax["init"]]
    model = FastLanguageModel.get_peft_model(
        model, r=lora["r"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"], target_modules=targets,
        bias="none", use_gradient_checkpointing=checkpointing, random_state=train["seed"],
        use_rslora=ax["scaling"] == "rslora", init_lora_weights=init, use_dora=ax["adapter"] == "dora",
    )
    return model, tokenizer


def _status(device: str) -> dict:
    """{"available", "reason", "version"} for lib/train/unsloth.ts; device "auto" asks PyTorch."""
    if device == "auto":
        import torch
        device = "cuda" if torch.cuda.is_available() else "cpu"
    reason = unavailable_reason(device)
    try:
        version = importlib.metadata.version("unsloth")
    except importlib.metadata.PackageNotFoundError:
        version = None
    return {"available": reason is None, "reason": reason, "version": version}


if __name__ == "__main__":
    out, sys.stdout = sys.stdout, sys.stderr  # library prints must not corrupt the JSON answer
    job = json.load(sys.stdin)
    if "config" in job:
        answer = {"reason": check_config(job["config"], job.get("axes"))}
    else:
        answer = _status(job.get("device", "auto"))
    out.write(json.dumps(answer) + "\n")
    out.flush()
