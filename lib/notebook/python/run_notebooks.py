"""Execute notebooks with the real Jupyter client (nbclient) and our Deno kernel, losing no output.

The Deno kernel can send outputs *after* a cell's `status: idle`; stock nbclient stops reading at
idle, so such outputs are lost or land in the next cell (see shared/DENO_KERNEL_NOTES.md). This
client keeps reading the cell's iopub messages after idle until the channel has been quiet for
`settle_ms`, and only then lets the next request go out.

Protocol: one JSON job on stdin, one JSON object per line on stdout (events), human logs on stderr:
  {"event": "start", "notebook": ...}
  {"event": "cell", "notebook": ..., "index": i, "seconds": s}
  {"event": "done", "notebook": ..., "ok": bool, "out": path, "html": path|null,
   "error": null | {"index": i, "kind": "error|timeout|dead-kernel|kernel", "ename":..., "evalue":..., "message":...}}
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from queue import Empty

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import (
    CellExecutionComplete,
    CellExecutionError,
    CellTimeoutError,
    DeadKernelError,
)


def emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


class SettlingClient(NotebookClient):
    """nbclient that waits for iopub to go quiet after each cell's idle message."""

    settle_ms: int = 100
    settle_max_s: float = 30.0
    notebook_path: str = ""

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):  # noqa: ANN001
        await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        if self.settle_ms <= 0:  # stock nbclient behaviour, kept for the benchmark that shows the race
            return
        deadline = time.monotonic() + self.settle_max_s
        while time.monotonic() < deadline:
            try:
                msg = await self.kc.iopub_channel.get_msg(timeout=self.settle_ms / 1000)
            except Empty:
                return
            if msg["parent_header"].get("msg_id") != parent_msg_id:
                continue
            try:
                self.process_message(msg, cell, cell_index)
            except CellExecutionComplete:
                pass  # a second idle: keep settling


def _first_line(text: str) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            return line.strip()
    return ""


def run_one(job: dict, path: str) -> bool:
    # With parameters, the TypeScript side writes the injected copy elsewhere ("sources"); the
    # notebook still runs from its own folder and keeps its own name.
    nb = nbformat.read(job.get("sources", {}).get(path, path), as_version=4)
    name = os.path.basename(path)
    out_path = os.path.join(job["out"], name)
    emit({"event": "start", "notebook": path, "cells": len(nb.cells)})
    t_cell = [time.monotonic()]

    def on_cell_executed(cell, cell_index, execute_reply):  # noqa: ANN001
        now = time.monotonic()
        emit({"event": "cell", "notebook": path, "index": cell_index, "seconds": round(now - t_cell[0], 3)})
        t_cell[0] = now

    def on_cell_start(cell, cell_index):  # noqa: ANN001
        t_cell[0] = time.monotonic()

    client = SettlingClient(
        nb,
        kernel_name=job.get("kernel", "ince"),
        timeout=job.get("timeout"),
        startup_timeout=job.get("startup_timeout", 60),
        iopub_timeout=60,
        # Merge consecutive prints into one output, as JupyterLab shows them (smaller notebooks).
        coalesce_streams=True,
        interrupt_on_timeout=False,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
        on_cell_executed=on_cell_executed,
        on_cell_start=on_cell_start,
    )
    client.settle_ms = job.get("settle_ms", 100)
    error = None
    current = [None]
    original = client.async_execute_cell

    async def tracking_execute_cell(cell, cell_index, *args, **kwargs):  # noqa: ANN001
        current[0] = cell_index
        return await original(cell, cell_index, *args, **kwargs)

    client.async_execute_cell = tracking_execute_cell
    try:
        client.execute()
    except CellTimeoutError as e:
        error = {"kind": "timeout", "ename": "Timeout", "evalue": f"cell ran longer than {job.get('timeout')} s",
                 "message": _first_line(str(e))}
    except CellExecutionError as e:
        error = {"kind": "error", "ename": e.ename, "evalue": e.evalue, "message": _first_line(e.evalue) or e.ename}
    except DeadKernelError as e:
        error = {"kind": "dead-kernel", "ename": "DeadKernelError", "evalue": str(e), "message": "the kernel died"}
    except Exception as e:  # kernel could not start, no such kernelspec, ...
        error = {"kind": "kernel", "ename": type(e).__name__, "evalue": str(e), "message": _first_line(str(e))}
    if error is not None:
        error["index"] = current[0]
        if current[0] is not None:
            error["source"] = _first_line(nb.cells[current[0]].source)

    # Keep what ran, also after a failure: the executed copy is how a user sees what went wrong.
    os.makedirs(job["out"], exist_ok=True)
    nbformat.write(nb, out_path)
    html_path = None
    if job.get("html"):
        from nbconvert import HTMLExporter

        body, _ = HTMLExporter().from_notebook_node(nb)
        html_path = os.path.splitext(out_path)[0] + ".html"
        with open(html_path, "w", encoding="utf-8") as f:
            f.write(body)
    emit({"event": "done", "notebook": path, "ok": error is None, "out": out_path, "html": html_path, "error": error})
    return error is None


def main() -> int:
    job = json.load(sys.stdin)
    ok = True
    for path in job["notebooks"]:
        ok = run_one(job, path) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    # nbclient's sync wrapper needs an event loop policy that works in a plain script.
    if sys.platform.startswith("win"):
        asyncio.set_event_loop_policy(asyncio.WindowsSelectorEventLoopPolicy())
    sys.exit(main())
