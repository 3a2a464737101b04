"""The runner's Python side speaks the JSON-lines protocol the TypeScript side parses."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER = os.path.join(ROOT, "lib", "notebook", "python", "run_notebooks.py")


def test_a_missing_kernelspec_is_reported_as_a_kernel_error(tmp_path):
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "ince", "display_name": "x"}},
          "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": "1"}]}
    path = tmp_path / "a.ipynb"
    path.write_text(json.dumps(nb))
    job = {"notebooks": [str(path)], "out": str(tmp_path / "out"), "timeout": 10, "kernel": "no-such-kernel"}
    proc = subprocess.run([sys.executable, RUNNER], input=json.dumps(job), capture_output=True, text=True, timeout=120)
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert proc.returncode == 1
    assert [e["event"] for e in events] == ["start", "done"]
    done = events[-1]
    assert done["ok"] is False
    assert done["error"]["kind"] == "kernel"
    assert "no-such-kernel" in done["error"]["evalue"]
    assert os.path.exists(done["out"])  # the copy is written even when nothing ran
