"""llama.cpp's OpenAI-compatible HTTP server, embedded in PyPI's `xllamacpp` (pinned in requirements/deploy.txt),
for lib/deploy/llama_server.ts.

Reads ONE JSON line on stdin: {"gguf", "host", "port", "threads", "contextSize"}; once the model is loaded and
the server listens, answers {"baseUrl": "http://HOST:PORT"} on stdout (or {"error": "<one line>"} and exits 1);
then serves until stdin is closed (the parent stopped it, or the parent died: the pipe closes either way, so the
server never outlives it) and exits. The answer goes to stdout because llama.cpp logs to stderr from its own
thread, so the last stderr line is not reliably ours.
"""

import json
import socket
import sys

from _job import answer


def _fail(message: str) -> None:
    answer({"error": message})
    sys.exit(1)


def main() -> None:
    job = json.loads(sys.stdin.readline())
    gguf, host, port = job["gguf"], job["host"], int(job["port"])
    if port:
        probe = socket.socket()
        try:
            probe.bind((host, port))
        except OSError as e:
            _fail(f"Port {port} on {host} is in use ({e.strerror}); pass another port, or 0 for a free one.")
        finally:
            probe.close()

    import xllamacpp as xlc

    p = xlc.CommonParams()
    p.model.path = gguf
    p.n_ctx = int(job["contextSize"])
    p.n_parallel = 1
    for cpu in (p.cpuparams, p.cpuparams_batch):
        cpu.n_threads = int(job["threads"])
        cpu.poll = 0  # no busy-waiting worker threads on a shared CPU
    p.n_threads_http = 2
    p.hostnames = [host]
    p.port = port  # 0: a free port
    p.use_jinja = True  # the chat template stored in the GGUF, rendered by llama.cpp's Jinja engine
    p.ui = False
    p.verbosity = 1  # errors only
    try:
        server = xlc.Server(p)
    except RuntimeError:
        _fail(
            f"{gguf}: llama.cpp's server could not load it (not a GGUF file, truncated, or an architecture "
            "this llama.cpp does not know); convert the model again."
        )
    answer({"baseUrl": server.listening_address})
    sys.stdin.read()  # blocks until the parent closes stdin or dies
    del server  # stops the HTTP threads and frees the model


if __name__ == "__main__":
    main()
