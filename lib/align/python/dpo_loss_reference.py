"""The DPO loss of each pair as TRL itself computes it: TRL's own `DPOTrainer._compute_loss` is called on
tensors, with a stand-in for the trainer (its attributes set from a default `DPOConfig(beta=...)` the way
`DPOTrainer.__init__` sets them) and a stand-in model whose per-token log-probs sum to the given sequence
log-prob. Nothing of the formula is written here, so the answer is TRL's, whatever version is installed.

Job (stdin): {"pairs": [{"policyChosen", "policyRejected", "refChosen", "refRejected", "beta"}, ...]}
Answer (last stdout line): {"trl": "<version>", "results": [{"loss", "rewardChosen", "rewardRejected", "margin"}]}
Used by tests/align_metrics_test.ts to check lib/align/dpo_loss.ts.
"""

import json
import sys
import tempfile
from collections import defaultdict
from types import SimpleNamespace

_real_stdout = sys.stdout
sys.stdout = sys.stderr  # library prints must not corrupt the JSON answer

TOKENS = 4  # completion tokens per sequence; the sequence log-prob is split unevenly across them


def fail(message: str) -> None:
    print(f"dpo_loss_reference.py: {message}", file=sys.stderr)
    sys.exit(1)


def stand_in_trainer(args):
    """An object with exactly the attributes `_compute_loss` reads, taken from `args` as `__init__` does."""
    import torch

    t = SimpleNamespace()
    t.model = SimpleNamespace(training=True)
    t.accelerator = SimpleNamespace(
        device=torch.device("cpu"), gather=lambda x: x, gather_for_metrics=lambda x: x
    )
    t.beta = args.beta
    t.precompute_ref_logps = True  # the reference log-probs come with the inputs, as with precompute_ref_log_probs
    t.loss_types = args.loss_type
    t.loss_weights = args.loss_weights or [1.0] * len(t.loss_types)
    t.ld_alpha = args.ld_alpha
    t.f_divergence_type = args.f_divergence_type
    t.f_alpha_divergence_coef = args.f_alpha_divergence_coef
    t.label_smoothing = args.label_smoothing
    t.use_weighting = args.use_weighting
    t.aux_loss_enabled = False
    t.args = args
    t._metrics = {"train": defaultdict(list), "eval": defaultdict(list)}
    t._total_train_tokens = 0
    t._tp_size = 1
    return t


def stand_in_model(chosen: float, rejected: float):
    """A model whose fused-head output has per-token log-probs summing to `chosen` and `rejected`."""
    import torch

    weights = torch.tensor([0.1, 0.2, 0.3, 0.4], dtype=torch.float64)  # uneven split: the sum is what counts
    log_probs = torch.stack([chosen * weights, rejected * weights])

    def model(**_kwargs):
        return SimpleNamespace(
            log_probs=log_probs,
            entropy=torch.zeros_like(log_probs),
            mean_logits=torch.zeros_like(log_probs),
            is_top1=torch.zeros_like(log_probs, dtype=torch.bool),
        )

    return model


def main() -> None:
    job = json.load(sys.stdin)
    try:
        import torch
        import trl
        from trl import DPOConfig, DPOTrainer
    except ImportError as e:
        fail(f"cannot import TRL ({e}); run `deno task setup` to install the Python environment.")
    configs = {}  # one DPOConfig per beta, with TRL's defaults for everything else
    results = []
    for i, pair in enumerate(job.get("pairs", [])):
        beta = pair.get("beta")
        if not isinstance(beta, (int, float)) or beta <= 0:
            fail(f"pair {i}: beta is {beta!r}; pass a number > 0.")
        if beta not in configs:
            with tempfile.TemporaryDirectory() as out:
                configs[beta] = DPOConfig(output_dir=out, beta=float(beta), report_to=[], use_cpu=True, bf16=False)
        args = configs[beta]
        if args.loss_type != ["sigmoid"] or args.f_divergence_type != "reverse_kl":
            fail(f"TRL's defaults changed (loss_type={args.loss_type}, f_divergence_type={args.f_divergence_type}).")
        t = stand_in_trainer(args)
        # batch = [chosen, rejected]; one prompt token then TOKENS completion tokens
        completion_mask = torch.tensor([[0] + [1] * TOKENS] * 2)
        inputs = {
            "input_ids": torch.zeros((2, TOKENS + 1), dtype=torch.long),
            "attention_mask": torch.ones((2, TOKENS + 1), dtype=torch.long),
            "completion_mask": completion_mask,
            "ref_chosen_logps": torch.tensor([pair["refChosen"]], dtype=torch.float64),
            "ref_rejected_logps": torch.tensor([pair["refRejected"]], dtype=torch.float64),
        }
        model = stand_in_model(pair["policyChosen"], pair["policyRejected"])
        loss = DPOTrainer._compute_loss(t, model, inputs, return_outputs=False)
        m = t._metrics["train"]
        if len(m["rewards/chosen"]) != 1:
            fail(f"pair {i}: TRL logged {len(m['rewards/chosen'])} reward values for one pair.")
        results.append({
            "loss": float(loss),
            "rewardChosen": m["rewards/chosen"][0],
            "rewardRejected": m["rewards/rejected"][0],
            "margin": m["rewards/margins"][0],
        })
    _real_stdout.write(json.dumps({"trl": trl.__version__, "results": results}) + "\n")
    _real_stdout.flush()


if __name__ == "__main__":
    main()
