"""bitsandbytes' own numbers for the TypeScript quantizers (tests/quant_test.ts), on a CPU, in one process.

stdin: {"nf4": [{"name", "values": b64 float32, "blockSize"}],
        "blockwise": [{"name", "values": b64 float32, "blockSize"}],
        "int8": [{"name", "values": b64 float32, "rows", "cols"}]}
stdout (last line): {"versions": {...}, "dynamicMap": b64 float32, "nf4": [...], "blockwise": [...], "int8": [...]};
arrays are base64 little-endian (float32, uint8 or int8); error statistics are float64 numbers.
"""

import base64
import json
import os
import sys

# bitsandbytes wraps its pure-PyTorch fallbacks (e.g. dequantizing an odd count) in torch.compile, which
# costs ~15 s of compiling on a CPU; the same code runs eagerly without it.
os.environ.setdefault("TORCHDYNAMO_DISABLE", "1")

real_stdout = sys.stdout
sys.stdout = sys.stderr  # bitsandbytes' import-time messages must not corrupt the JSON answer


def b64(t):
    return base64.b64encode(t.detach().contiguous().cpu().numpy().tobytes()).decode()


def main() -> int:
    job = json.load(sys.stdin)
    import numpy as np
    import torch

    torch.set_num_threads(1)
    import bitsandbytes
    import bitsandbytes.functional as F

    def tensor(s):
        return torch.from_numpy(np.frombuffer(base64.b64decode(s), dtype=np.float32).copy())

    def stats(x, y):
        e = (x.double() - y.double()).abs()
        return {"rms": e.pow(2).mean().sqrt().item(), "max": e.max().item(), "meanAbs": e.mean().item()}

    out = {"versions": {"bitsandbytes": bitsandbytes.__version__, "torch": torch.__version__,
                        "cpu": torch.backends.cpu.get_cpu_capability()},
           "dynamicMap": b64(F.create_dynamic_map(signed=True)), "nf4": [], "blockwise": [], "int8": []}
    for c in job.get("nf4", []):
        x = tensor(c["values"])
        packed, st = F.quantize_4bit(x, blocksize=c["blockSize"], quant_type="nf4")
        deq = F.dequantize_4bit(packed, st)
        packed2, st2 = F.quantize_4bit(x, blocksize=c["blockSize"], quant_type="nf4", compress_statistics=True)
        deq2 = F.dequantize_4bit(packed2, st2)
        out["nf4"].append({
            "name": c["name"], "packed": b64(packed.view(-1)), "absmax": b64(st.absmax), "dequantized": b64(deq),
            "stats": stats(x, deq), "packedDouble": b64(packed2.view(-1)),
            "double": {"codes": b64(st2.absmax), "absmax2": b64(st2.state2.absmax), "offset": st2.offset.item(),
                       "blockSize": st2.state2.blocksize, "code": b64(st2.state2.code)},
            "dequantizedDouble": b64(deq2), "statsDouble": stats(x, deq2),
        })
    for c in job.get("blockwise", []):
        x = tensor(c["values"])
        q, st = F.quantize_blockwise(x, blocksize=c["blockSize"])
        out["blockwise"].append({"name": c["name"], "codes": b64(q), "absmax": b64(st.absmax),
                                 "dequantized": b64(F.dequantize_blockwise(q, st))})
    for c in job.get("int8", []):
        w = tensor(c["values"]).reshape(c["rows"], c["cols"])
        cb, scb, _ = F.int8_vectorwise_quant(w.clone())
        deq = F.int8_vectorwise_dequant(cb, scb)
        out["int8"].append({"name": c["name"], "codes": b64(cb), "rowAbsmax": b64(scb), "dequantized": b64(deq),
                            "stats": stats(w, deq)})
    real_stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as e:  # one line for the test's error message
        print(f"bnb_reference.py: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
