"""nbclient that files every output under the cell whose request it answers, losing none.

The Deno kernel can send a cell's outputs *after* the cell's `status: idle` (see
shared/DENO_KERNEL_NOTES.md); stock nbclient stops reading at idle, so such outputs are lost or
land in the next cell. Two facts, measured with Deno 2.9.6, shape this client:

- Outputs that the cell's own code produced carry that cell's request in `parent_header.msg_id`,
  even when they arrive after idle. So nothing is dropped for arriving late: an output whose parent
  is an earlier cell's request is filed under that cell, whenever it comes.
- Output produced later (a `setTimeout` print) is tagged with whichever request the kernel is
  running *then*, and the kernel forwards stdout from a queue, tagging each line when it leaves the
  queue. So before the next cell goes out, the client sends a silent probe request that waits,
  like `deno run` before it exits, until the cell's timers and pending I/O are done (at most
  `pending_max_s`), then prints a marker through the same stdout queue. Everything the probe's
  request is tagged with belongs to the cell; once the marker is back, the queue holds nothing of
  the cell. Cost: one round trip (~2 ms) per cell instead of a quiet period.

A cell that leaves work running for longer (a server, a `setInterval`) costs one wait of
`pending_max_s`; later cells of that notebook then only flush stdout (they no longer wait for work).
"""

from __future__ import annotations

import sys
from queue import Empty

from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionComplete, DeadKernelError

MARKER = "\u0001ince-settled"
_BUSY = "busy"
# Runs in the kernel as a silent request (no execute_result, no execution count, no history).
# `core.print` goes through the same stdout queue as console.log, but cannot be replaced by a cell.
_PROBE = """await (async () => {
  const core = Deno[Deno.internal].core;
  const end = Date.now() + %d;
  while (core.eventLoopHasMoreWork() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  core.print("%s" + (core.eventLoopHasMoreWork() ? " %s" : "") + "\\n", false);
})()"""
# What a probe's own messages may carry for the cell: outputs only (not its status, input or count).
_OUTPUT_TYPES = {"stream", "display_data", "update_display_data", "clear_output"}
# How long to wait for the marker after the probe's idle before giving up (a cell broke Deno itself).
_MARKER_GRACE_S = 2.0


def _log(text: str) -> None:
    sys.stderr.write(f"run_notebooks: {text}\n")
    sys.stderr.flush()


class RoutingClient(NotebookClient):
    """Routes iopub messages by `parent_header.msg_id`; `settle = False` is stock nbclient."""

    settle: bool = True
    pending_max_s: float = 5.0

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._owner: dict[str, tuple] = {}  # request msg_id -> (cell, cell_index)
        self._probes: set[str] = set()
        self._seen: set[tuple[str, str]] = set()  # (msg_id, "idle" | "marker")
        self._probe_failed = False
        self.exit_code: int | None = None

    async def async_execute_cell(self, cell, cell_index, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        try:
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)
        except DeadKernelError:
            process = getattr(getattr(self.km, "provisioner", None), "process", None)
            self.exit_code = process.poll() if process is not None else None
            raise

    async def _async_poll_output_msg(self, parent_msg_id, cell, cell_index):  # noqa: ANN001
        if not self.settle:  # stock nbclient, kept for the benchmark and the negative control
            return await super()._async_poll_output_msg(parent_msg_id, cell, cell_index)
        self._owner[parent_msg_id] = (cell, cell_index)
        await self._read_until(parent_msg_id, "idle")
        if self._probe_failed:  # routing by msg_id still holds; only the wait for pending work is gone
            return
        probe = self.kc.execute(
            _PROBE % (int(self.pending_max_s * 1000), MARKER, _BUSY),
            silent=True, store_history=False, allow_stdin=False, stop_on_error=False,
        )
        self._owner[probe] = (cell, cell_index)
        self._probes.add(probe)
        await self._read_until(probe, "idle")
        await self._read_until(probe, "marker", grace_s=_MARKER_GRACE_S)

    async def _read_until(self, msg_id: str, what: str, grace_s: float | None = None) -> None:
        """Routes iopub messages until `(msg_id, what)` was seen (or `grace_s` passed without a message)."""
        while (msg_id, what) not in self._seen:
            try:
                msg = await self.kc.iopub_channel.get_msg(timeout=grace_s)
            except Empty:
                _log(f"no stdout marker {grace_s} s after the probe of cell {self._owner[msg_id][1]}; going on")
                return
            self._route(msg)

    def _route(self, msg: dict) -> None:
        parent = msg["parent_header"].get("msg_id")
        owner = self._owner.get(parent)
        if owner is None:  # kernel_info and the like
            return
        cell, cell_index = owner
        kind = msg["msg_type"]
        if parent in self._probes:
            if kind == "status" and msg["content"]["execution_state"] == "idle":
                self._seen.add((parent, "idle"))
                return
            if kind == "error":  # a future Deno without Deno[Deno.internal].core: stop probing
                _log(f"the settle probe failed ({msg['content'].get('evalue')}); late output may land in the next cell")
                self._probe_failed = True
                self._seen.add((parent, "marker"))
                return
            if kind == "stream" and MARKER in msg["content"]["text"]:
                self._take_marker(msg, parent, cell_index)
                if not msg["content"]["text"]:
                    return
            if kind not in _OUTPUT_TYPES:
                return
        try:
            self.process_message(msg, cell, cell_index)
        except CellExecutionComplete:
            self._seen.add((parent, "idle"))

    def _take_marker(self, msg: dict, probe: str, cell_index: int) -> None:
        """Removes the marker line from a stream message and notes what it said."""
        kept = []
        for line in msg["content"]["text"].splitlines(keepends=True):
            if not line.startswith(MARKER):
                kept.append(line)
                continue
            self._seen.add((probe, "marker"))
            if _BUSY in line and self.pending_max_s > 0:
                _log(
                    f"cell {cell_index + 1} left timers or I/O running after {self.pending_max_s} s; "
                    "later cells no longer wait for pending work (their late output may land in the next cell)"
                )
                self.pending_max_s = 0
        msg["content"]["text"] = "".join(kept)
