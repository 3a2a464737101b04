"""Exports a causal language model to one ONNX file with torch's own exporter (`torch.onnx.export(...,
dynamo=True)`, which needs onnxscript + onnx): input `input_ids` [1, seq] (int64, `seq` dynamic), output
`logits` [1, seq, vocab] (the model's dtype, float32 here). No KV cache: every call reads the whole sequence.

stdin: {"model": DIR, "out": FILE.onnx, "opset": N, "maxSequence": N}
stdout: {"path": FILE, "bytes": N, "opset": N, "exportSeconds": s, "inputs": [str], "outputs": [str]}
"""

import os
import sys
import time

from _job import answer, read_job


def _fail(message: str) -> int:
    print(message, file=sys.stderr)  # the last stderr line is the error lib/deploy shows
    return 1


def _first_line(e: Exception) -> str:
    return (str(e).strip().splitlines() or [""])[0][:300]


def main() -> int:
    job = read_job()
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(1)
    model_dir, out = job["model"], job["out"]
    try:
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32).eval()
    except Exception as e:  # noqa: BLE001 — e.g. a model type this transformers does not know
        return _fail(f"{model_dir}: transformers cannot load it as a causal LM ({type(e).__name__}: {_first_line(e)}); "
                     "check config.json's model_type and architectures.")

    class LogitsOnly(torch.nn.Module):
        """forward(input_ids) -> logits, without the cache (the graph has one input and one output)."""

        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids):
            return self.m(input_ids=input_ids, use_cache=False).logits

    vocab = int(model.config.vocab_size)
    sample = (torch.arange(8, dtype=torch.long) * 7 % vocab).unsqueeze(0)  # any ids: only the shapes matter
    seq = torch.export.Dim("seq", min=1, max=int(job["maxSequence"]))
    partial = out + ".partial"
    t0 = time.time()
    try:
        program = torch.onnx.export(LogitsOnly(model).eval(), (sample,), input_names=["input_ids"],
                                    output_names=["logits"], dynamic_shapes={"input_ids": {1: seq}},
                                    dynamo=True, opset_version=int(job["opset"]))
        program.optimize()
        program.save(partial, external_data=False)
        os.replace(partial, out)
    except Exception as e:  # noqa: BLE001 — any exporter failure becomes one line
        if os.path.exists(partial):
            os.remove(partial)
        return _fail(f"{model_dir}: torch.onnx.export failed ({type(e).__name__}: {_first_line(e)}); "
                     "check that transformers can run this model (config.json's architectures) and try again.")
    export_seconds = time.time() - t0

    import onnx

    saved = onnx.load(out, load_external_data=False)
    opset = next(o.version for o in saved.opset_import if o.domain in ("", "ai.onnx"))
    answer({"path": out, "bytes": os.path.getsize(out), "opset": opset, "exportSeconds": round(export_seconds, 3),
            "inputs": [i.name for i in saved.graph.input], "outputs": [o.name for o in saved.graph.output]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
