"""Execute notebooks with the real Jupyter client (nbclient) and our Deno kernel, losing no output.

The client (`routing_client.py`) files each output under the cell whose request it answers and,
before the next cell, waits for the work the cell left pending; see that module for why.

Protocol: one JSON job on stdin, one JSON object per line on stdout (events), human logs on stderr:
  job: {"notebooks": [...], "out": dir, "timeout": s|null, "html": bool, "kernel": name,
        "settle": bool (false = stock nbclient), "pending_max_ms": ms, "sources": {path: copy}}
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

import nbformat
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from routing_client import RoutingClient


def emit(event: dict) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


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

    client = RoutingClient(
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
    client.settle = job.get("settle", True)
    client.pending_max_s = job.get("pending_max_ms", 5000) / 1000
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
        where = f"in cell {current[0] + 1}" if current[0] is not None else "before any cell ran"
        code = f" (exit code {client.exit_code})" if client.exit_code is not None else ""
        error = {"kind": "dead-kernel", "ename": "DeadKernelError", "evalue": str(e),
                 "message": f"kernel died {where}{code}"}
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
