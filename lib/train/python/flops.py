"""Model FLOPs per token and MFU: the Python twin of lib/train/mfu.ts (tests/mfu_test.ts checks they agree).

Convention (PaLM, Chowdhery et al. 2022, appendix B): a training step costs, per token,

    6·N + 12·L·(heads·head_dim)·S

N: the parameters that take part in matrix multiplies — every layer's q/k/v/o and gate/up/down projections plus
the output layer (vocab × hidden; counted once even when tied to the input embedding, whose lookup costs nothing).
The forward pass is 2·N, the backward 4·N (gradients of activations and of weights). The attention term is
QKᵀ and attention·V over S positions (the token-weighted mean sequence length), counted in full although a causal
mask makes half of it zeros. For LoRA the frozen weights get no weight gradient, so the hardware does ≈ 4·N; the
convention still counts 6·N (model FLOPs, comparable across methods and papers) — the lesson shows both.

MFU = tokens/s × FLOPs per token / the accelerator's peak FLOP/s (data/gpu_peak_flops.json).
"""

from __future__ import annotations

import json
import os
import re

_TABLE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "data", "gpu_peak_flops.json")
ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _get(config, name, default=None):
    return config.get(name, default) if isinstance(config, dict) else getattr(config, name, default)


def matmul_params(config) -> int:
    """N: the layers' seven projections + the output layer (a Llama/Qwen-style decoder's config)."""
    h, i, layers = _get(config, "hidden_size"), _get(config, "intermediate_size"), _get(config, "num_hidden_layers")
    heads = _get(config, "num_attention_heads")
    d = _get(config, "head_dim") or h // heads
    q, kv = heads * d, (_get(config, "num_key_value_heads") or heads) * d
    return layers * (h * q + 2 * h * kv + q * h + 3 * h * i) + _get(config, "vocab_size") * h


def flops_per_token(config, seq_length: float) -> dict:
    """{"total", "dense", "attention", "matmulParams"}: training FLOPs per token (6·N + 12·L·heads·head_dim·S)."""
    h, heads, layers = _get(config, "hidden_size"), _get(config, "num_attention_heads"), _get(config, "num_hidden_layers")
    d = _get(config, "head_dim") or h // heads
    n = matmul_params(config)
    dense, attention = 6 * n, 12 * layers * heads * d * seq_length
    return {"total": dense + attention, "dense": dense, "attention": attention, "matmulParams": n}


def peak_flops(device_name: str | None, dtype: str, arch: str | None = None) -> tuple[float | None, str | None]:
    """(peak FLOP/s, where it comes from) for a GPU name and dtype; INCE_PEAK_FLOPS overrides; (None, None) if unknown."""
    override = os.environ.get("INCE_PEAK_FLOPS")
    if override:
        return float(override), "INCE_PEAK_FLOPS"
    if not device_name:
        return None, None
    with open(_TABLE, encoding="utf-8") as f:
        table = json.load(f)["gpus"]
    for row in table:
        if re.search(row["match"], device_name, re.I) or (arch and re.search(row["match"], arch, re.I)):
            value = row.get(dtype)
            return (float(value), f"{row['name']} {dtype}: {row['source']}") if value else (None, None)
    return None, None


def mfu(tokens_per_second: float | None, flops_token: float, peak: float | None) -> float | None:
    """Model FLOPs utilisation: achieved model FLOP/s / peak (None without a peak or a rate)."""
    if not tokens_per_second or not peak:
        return None
    return tokens_per_second * flops_token / peak
