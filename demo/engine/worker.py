"""Engine clients: the same ``submit``/``poll`` API in-process (sync) or in a worker (thread or process).

The worker drains its queue and works only on the newest request; results carry the request's
stamp, and ``poll`` drops results older than the newest one seen or than the last barrier
(a restart or a model change), so a stale image never replaces a fresh one.

Why a process by default: measured with ``python -m demo bench ui`` on the 2-core CPU, a thread
worker competes with the UI thread for the GIL in the solver's Python code, while a process does
not; and a process can be killed and restarted (the kiosk watchdog) without taking the window down.
The thread mode stays for debugging and for platforms where spawning is costly.
"""

from __future__ import annotations

import dataclasses
import multiprocessing as mp
import queue
import threading
import time
from types import SimpleNamespace

from demo.engine.api import EditRequest, EditResult, Engine

MODES = ("sync", "thread", "process")


def worker_main(requests, results, torch_threads: int | None = None, nice: int = 0) -> None:
    """Serve requests until a ``None`` arrives; only the newest queued request is worked on.

    ``nice`` > 0 lowers the worker's OS priority (process mode only), so the window wins the CPU.
    """
    if nice:
        import os

        os.nice(nice)
    if torch_threads:
        import torch

        torch.set_num_threads(torch_threads)
    engine = Engine()
    while True:
        newest = _UNSET = object()
        try:
            newest = requests.get(block=not engine.busy)
            while True:
                newest = requests.get_nowait()
        except queue.Empty:
            pass
        if newest is None:
            return
        if newest is not _UNSET:
            engine.submit(newest)
        result = engine.run()
        if result is not None:
            results.put(result)


class _ClientBase:
    def __init__(self) -> None:
        self._next_stamp = 0
        self._barrier = 0
        self._newest_seen = -1
        self.last_request: EditRequest | None = None

    def _stamp(self, request: EditRequest, barrier: bool) -> EditRequest:
        self._next_stamp += 1
        if barrier:
            self._barrier = self._next_stamp
        stamped = dataclasses.replace(request, stamp=self._next_stamp)
        self.last_request = stamped
        return stamped

    def _accept(self, result: EditResult | None) -> EditResult | None:
        """Drop results older than the barrier or than one already returned."""
        if result is None or result.stamp < self._barrier or result.stamp < self._newest_seen:
            return None
        self._newest_seen = result.stamp
        return result


class SyncClient(_ClientBase):
    """In-process: ``poll`` computes one chunk of steps on the caller's thread."""

    mode = "sync"

    def __init__(self) -> None:
        super().__init__()
        self.engine = Engine()
        self._fresh = False

    def submit(self, request: EditRequest, *, barrier: bool = False) -> int:
        stamped = self._stamp(request, barrier)
        self.engine.submit(stamped)
        self._fresh = True
        return stamped.stamp

    def poll(self) -> EditResult | None:
        if not (self._fresh or self.engine.busy):
            return None
        self._fresh = False
        return self._accept(self.engine.run())

    @property
    def alive(self) -> bool:
        return True

    def restart(self) -> None:
        self.engine = Engine()
        if self.last_request is not None:
            self.engine.submit(self.last_request)
            self._fresh = True

    def close(self) -> None:
        pass


class AsyncClient(_ClientBase):
    """A worker thread or process running ``worker_main``; ``poll`` never blocks."""

    def __init__(self, mode: str = "process", *, torch_threads: int | None = None, nice: int = 0) -> None:
        super().__init__()
        if mode not in ("thread", "process"):
            raise ValueError(f"mode must be thread or process, got {mode!r}")
        if nice and mode != "process":
            raise ValueError("nice applies to a process worker only (it would slow the whole app in thread mode)")
        self.mode = mode
        self.torch_threads = torch_threads
        self.nice = nice
        self._start()

    def _start(self) -> None:
        if self.mode == "process":
            ctx = mp.get_context("spawn")
        else:
            ctx = SimpleNamespace(Queue=queue.Queue, Process=threading.Thread)
        self._requests = ctx.Queue()
        self._results = ctx.Queue()
        self._worker = ctx.Process(target=worker_main, args=(self._requests, self._results, self.torch_threads, self.nice),
                                   daemon=True, name="igan-engine")
        self._worker.start()

    def submit(self, request: EditRequest, *, barrier: bool = False) -> int:
        stamped = self._stamp(request, barrier)
        self._requests.put(stamped)
        return stamped.stamp

    def poll(self) -> EditResult | None:
        """The newest acceptable result that arrived since the last poll, or None."""
        newest = None
        while True:
            try:
                result = self._results.get_nowait()
            except queue.Empty:
                break
            accepted = self._accept(result)
            newest = accepted or newest
        return newest

    def wait(self, *, timeout: float = 60.0, until=lambda result: True) -> EditResult | None:
        """Block until a result satisfies ``until`` (for scripts and tests; the UI never calls this)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.poll()
            if result is not None and until(result):
                return result
            time.sleep(0.002)
        return None

    @property
    def alive(self) -> bool:
        return self._worker.is_alive()

    def restart(self) -> None:
        """Replace the worker (e.g. after a hang or crash) and resend the last request; the window stays."""
        self.close(timeout=1.0)
        self._start()
        if self.last_request is not None:
            self._requests.put(self.last_request)

    def close(self, *, timeout: float = 5.0) -> None:
        if self._worker.is_alive():
            self._requests.put(None)
            self._worker.join(timeout)
        if self.mode == "process" and self._worker.is_alive():
            self._worker.terminate()
            self._worker.join(timeout)


def make_client(mode: str = "process", *, torch_threads: int | None = None, nice: int = 0):
    if mode == "sync":
        return SyncClient()
    return AsyncClient(mode, torch_threads=torch_threads, nice=nice if mode == "process" else 0)
