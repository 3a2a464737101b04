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


def _client_with_cells(n):
    sys.path.insert(0, os.path.dirname(RUNNER))
    import nbformat
    from routing_client import RoutingClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(f"cell {i}") for i in range(n)])
    for cell in nb.cells:
        cell.outputs = []
        cell.metadata["execution"] = {}  # as execute_cell() sets it
    client = RoutingClient(nb)
    client.reset_execution_trackers()  # as execute() and execute_cell() do before a cell
    client.clear_before_next_output = False
    return client, nb


def _msg(parent, msg_type, content):
    return {"parent_header": {"msg_id": parent}, "msg_type": msg_type, "header": {"msg_type": msg_type},
            "content": content}


def test_outputs_are_filed_under_the_request_they_answer_even_after_later_cells_started():
    client, nb = _client_with_cells(2)
    client._owner.update({"req-0": (nb.cells[0], 0), "req-1": (nb.cells[1], 1)})
    client._route(_msg("req-1", "stream", {"name": "stdout", "text": "from cell 1\n"}))
    client._route(_msg("req-0", "stream", {"name": "stdout", "text": "late from cell 0\n"}))
    client._route(_msg("unknown", "stream", {"name": "stdout", "text": "kernel_info noise\n"}))
    client._route(_msg("req-1", "status", {"execution_state": "idle"}))
    assert [o["text"] for o in nb.cells[0].outputs] == ["late from cell 0\n"]
    assert [o["text"] for o in nb.cells[1].outputs] == ["from cell 1\n"]
    assert ("req-1", "idle") in client._seen


def test_a_probe_files_outputs_under_its_cell_strips_its_marker_and_notes_left_over_work():
    from routing_client import MARKER

    client, nb = _client_with_cells(1)
    client._owner["probe-0"] = (nb.cells[0], 0)
    client._probes.add("probe-0")
    client._route(_msg("probe-0", "execute_input", {"code": "probe", "execution_count": 7}))
    client._route(_msg("probe-0", "stream", {"name": "stdout", "text": "timer print\n"}))
    client._route(_msg("probe-0", "stream", {"name": "stdout", "text": f"{MARKER} busy\n"}))
    client._route(_msg("probe-0", "status", {"execution_state": "idle"}))
    assert [o["text"] for o in nb.cells[0].outputs] == ["timer print\n"]
    assert nb.cells[0].execution_count is None  # the probe's own count is not the cell's
    assert {("probe-0", "marker"), ("probe-0", "idle")} <= client._seen
    assert client.pending_max_s == 0  # work left running: later cells no longer wait for it


def test_a_failing_probe_is_not_waited_for_and_is_not_sent_again():
    client, nb = _client_with_cells(1)
    client._owner["probe-0"] = (nb.cells[0], 0)
    client._probes.add("probe-0")
    client._route(_msg("probe-0", "error", {"ename": "TypeError", "evalue": "core is undefined", "traceback": []}))
    assert ("probe-0", "marker") in client._seen
    assert client._probe_failed
    assert nb.cells[0].outputs == []
