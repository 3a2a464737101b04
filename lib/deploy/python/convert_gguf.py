"""Converts a Hugging Face model folder to GGUF with llama.cpp's own `convert_hf_to_gguf.py` (run unchanged,
with `runpy`), teaching it one thing it cannot know: a BPE tokenizer whose pre-tokenizer is plain GPT-2
ByteLevel (regex on, no prefix space, no normalizer) is llama.cpp's `"gpt-2"` pre-tokenizer type.

llama.cpp recognises a BPE pre-tokenizer by hashing how it splits a test string and comparing the hash with
the models it knows; a new tokenizer (ince-tiny's) is unknown, and the converter refuses it. We map ONLY the
plain GPT-2 ByteLevel form, which is exactly what llama.cpp's "gpt-2" type implements; anything else is still
refused, with a one-line message.

stdin:  {"converter": DIR, "model": DIR, "out": FILE, "outType": "f32"|"f16"}
stdout: {"path": FILE, "bytes": N, "seconds": s, "architecture": NAME}
Writes `out + ".partial"` and renames it when the converter finished, so a failed run leaves no GGUF behind.
"""

import json
import logging
import os
import runpy
import sys
import time
import traceback
from pathlib import Path

from _job import answer, read_job

os.environ["HF_HUB_OFFLINE"] = "1"  # a local folder only: never reach the Hub


def _is_plain_gpt2_bytelevel(tokenizer_json: dict) -> bool:
    pre = tokenizer_json.get("pre_tokenizer") or {}
    return (
        tokenizer_json.get("normalizer") is None
        and pre.get("type") == "ByteLevel"
        and pre.get("use_regex", True) is True
        and pre.get("add_prefix_space", False) is False
    )


def _teach_gpt2_pre_tokenizer(base, model_dir: Path) -> None:
    original = base.TextModel.get_vocab_base_pre

    def get_vocab_base_pre(self, tokenizer):
        quiet = base.logger.level
        base.logger.setLevel(logging.ERROR)  # the converter's 12-line banner before it refuses
        try:
            return original(self, tokenizer)
        except NotImplementedError:
            tj = json.loads((self.dir_model / "tokenizer.json").read_text(encoding="utf-8"))
            if _is_plain_gpt2_bytelevel(tj):
                return "gpt-2"
            raise ValueError(
                f"{model_dir / 'tokenizer.json'}: its pre-tokenizer ({json.dumps(tj.get('pre_tokenizer'))[:120]}) "
                "is not one llama.cpp's converter recognises, and not plain GPT-2 ByteLevel; "
                "convert a model whose tokenizer llama.cpp supports."
            ) from None
        finally:
            base.logger.setLevel(quiet)

    base.TextModel.get_vocab_base_pre = get_vocab_base_pre


class _LastError(logging.Handler):
    """Remembers the converter's last ERROR log line, for the one-line failure message."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.message = ""

    def emit(self, record):
        self.message = record.getMessage().strip().splitlines()[0] if record.getMessage().strip() else ""


def main() -> int:
    job = read_job()
    converter, model, out = Path(job["converter"]), Path(job["model"]), Path(job["out"])
    import torch

    torch.set_num_threads(1)
    sys.path[:0] = [str(converter), str(converter / "gguf-py")]  # llama.cpp's own gguf-py, not PyPI's
    import conversion.base as base

    config = json.loads((model / "config.json").read_text(encoding="utf-8"))
    architecture = (config.get("architectures") or ["?"])[0]
    _teach_gpt2_pre_tokenizer(base, model)
    partial = out.with_name(out.name + ".partial")
    script = converter / "convert_hf_to_gguf.py"
    sys.argv = [str(script), str(model), "--outtype", job["outType"], "--outfile", str(partial)]
    logging.basicConfig(level=logging.WARNING)  # before the converter's own (INFO: a line per tensor)
    last_error = _LastError()
    logging.getLogger().addHandler(last_error)
    t0 = time.time()
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as e:
        if e.code not in (0, None):
            partial.unlink(missing_ok=True)
            why = f": {last_error.message}" if last_error.message else "; see its log lines above"
            print(f"{model}: llama.cpp's converter stopped (exit {e.code}){why}.", file=sys.stderr)
            return 1
    except Exception as e:  # noqa: BLE001 — the traceback for the log, then one line for the caller
        partial.unlink(missing_ok=True)
        traceback.print_exc()
        message = str(e).splitlines()[0] if str(e) else type(e).__name__
        if not message.startswith(str(model)):
            message = f"{model}: llama.cpp's converter failed: {type(e).__name__}: {message}"
        print(message, file=sys.stderr)
        return 1
    os.replace(partial, out)
    answer({"path": str(out), "bytes": out.stat().st_size, "seconds": round(time.time() - t0, 3),
            "architecture": architecture})
    return 0


if __name__ == "__main__":
    sys.exit(main())
