"""The worker side of an engine client: the loop that serves requests, in a thread or a process.

``serve`` drains the request queue and works only on the newest request, cutting a chunk of solver steps
short when a newer one arrives. ``thread_main`` and ``process_main`` are what ``demo.engine.worker``'s
clients start; a process worker dies with its parent and lowers its priority after the first image.
"""

from __future__ import annotations

import queue
import signal
import time
from typing import Callable

from demo.engine.engine import Engine
from demo.engine.lifetime import die_with_parent, lower_priority


def serve(requests, results, engine_factory: Callable[[], Engine] = Engine, *,
          on_first_result: Callable[[], None] | None = None) -> None:
    """Serve requests until a ``None`` arrives; only the newest queued request is worked on."""
    engine = engine_factory()

    def newer_waiting() -> bool:
        return not requests.empty()

    while True:
        newest = unset = object()
        try:
            newest = requests.get(block=not engine.busy)
            while True:
                newest = requests.get_nowait()
        except queue.Empty:
            pass
        if newest is None:
            return
        if newest is not unset:
            engine.submit(newest, received_at=time.perf_counter())
        result = engine.run(should_stop=newer_waiting)
        if result is not None:
            results.put(result)
            if on_first_result is not None:
                on_first_result()
                on_first_result = None


def thread_main(requests, results, *, torch_threads: int | None = None,
                engine_factory: Callable[[], Engine] = Engine) -> None:
    """A worker thread (torch's thread count is the whole process's here)."""
    _load_torch(torch_threads)
    serve(requests, results, engine_factory)


def process_main(requests, results, *, parent_pid: int, torch_threads: int | None = None, nice: int = 0,
                 engine_factory: Callable[[], Engine] = Engine) -> None:
    """A worker process: dies with its parent; torch loads before the first request; ``nice`` after the first result."""
    die_with_parent(parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in the terminal is the app's to handle.
    _load_torch(torch_threads)
    # The first image comes at full priority; then the window wins the CPU.
    serve(requests, results, engine_factory, on_first_result=(lambda: lower_priority(nice)) if nice else None)
    # Flush the last results (the client drains while it waits for us) before exiting.
    results.close()
    results.join_thread()


def _load_torch(torch_threads: int | None) -> None:
    """Import torch and the solver now (while the window opens, not on the first request)."""
    import torch

    import demo.engine.solver  # noqa: F401

    if torch_threads:
        torch.set_num_threads(torch_threads)
