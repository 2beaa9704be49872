"""Engine clients: the same ``submit``/``poll`` API in-process (sync) or in a worker (thread or process).

The worker drains its queue and works only on the newest request, and cuts a chunk of solver steps
short when a newer one arrives; results carry the request's stamp, and ``poll`` drops results
older than the newest one seen or than the last barrier (a restart or a model change), so a stale
image never replaces a fresh one. When several results arrive between two polls, the newest is
returned with the skipped ones' per-chunk figures folded in (``fold_skipped``). Neither ``submit``
nor ``poll`` ever blocks, whatever the worker does.

Why a process by default: measured with ``python -m demo bench ui`` on the 2-core CPU, a thread
worker competes with the UI thread for the GIL in the solver's Python code, while a process does
not; and a process can be killed and restarted (the kiosk watchdog) without taking the window down.
The thread mode stays for debugging and for platforms where spawning is costly.

A process worker never outlives the app: on Linux the kernel kills it when the app dies, however
it dies (``PR_SET_PDEATHSIG``; the app must create the client on a thread that lives as long as
the app, as the main thread does), and everywhere a watcher thread in the worker exits within
0.5 s of the parent going away. ``close`` never blocks on a pipe nobody reads: it drains results
while it waits, joins with bounds, then terminates and kills. The client is also closed at exit.
"""

from __future__ import annotations

import atexit
import dataclasses
import multiprocessing as mp
import multiprocessing.connection
import multiprocessing.util  # noqa: F401 - registers its exit handler before ours, so ours runs first
import os
import queue
import threading
import time
from typing import Callable

from demo.engine.api import EditRequest, EditResult
from demo.engine.engine import Engine
from demo.engine.worker_main import process_main, thread_main

MODES = ("sync", "thread", "process")


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
        stamped = dataclasses.replace(request, stamp=self._next_stamp, sent_at=time.perf_counter())
        self.last_request = stamped
        return stamped

    def _resent(self) -> EditRequest:
        """The last request again (after a restart), sent now."""
        self.last_request = dataclasses.replace(self.last_request, sent_at=time.perf_counter())
        return self.last_request

    def sleep(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True if woken early because a result arrived (only a process worker can
        wake the caller: a thread's queue cannot be waited on without taking from it, and the sync
        client computes in ``poll``)."""
        time.sleep(seconds)
        return False

    def _accept(self, result: EditResult | None) -> EditResult | None:
        """Drop results older than the barrier or than one already returned."""
        if result is None or result.stamp < self._barrier or result.stamp < self._newest_seen:
            return None
        self._newest_seen = result.stamp
        return result


class SyncClient(_ClientBase):
    """In-process: ``poll`` computes one chunk of steps on the caller's thread."""

    mode = "sync"

    def __init__(self, *, engine_factory: Callable[[], Engine] = Engine) -> None:
        super().__init__()
        self.engine_factory = engine_factory
        self.engine = engine_factory()
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
        self.engine = self.engine_factory()
        if self.last_request is not None:
            self.engine.submit(self._resent())
            self._fresh = True

    def close(self) -> None:
        pass


class _Worker:
    """One worker thread or process with its two queues; ``stop`` is bounded and idempotent."""

    def __init__(self, mode: str, *, torch_threads: int | None, nice: int, engine_factory) -> None:
        self.mode = mode
        if mode == "process":
            ctx = mp.get_context("spawn")
            self.requests, self.results = ctx.Queue(), ctx.Queue()
            self.worker = ctx.Process(target=process_main, args=(self.requests, self.results), daemon=True,
                                      name="igan-engine", kwargs=dict(parent_pid=os.getpid(), torch_threads=torch_threads,
                                                                      nice=nice, engine_factory=engine_factory))
            self.worker.start()
            # Never wait at exit for a request pipe nobody reads any more.
            self.requests.cancel_join_thread()
            # Only the worker writes results: with our copy of the write end closed, a worker that dies
            # in the middle of a result leaves poll() an EOFError instead of a read that never ends.
            self.results._writer.close()
        else:
            self.requests, self.results = queue.Queue(), queue.Queue()
            self.worker = threading.Thread(target=thread_main, args=(self.requests, self.results), daemon=True,
                                           name="igan-engine",
                                           kwargs=dict(torch_threads=torch_threads, engine_factory=engine_factory))
            self.worker.start()
        self.stopped = False

    def stop(self, timeout: float = 5.0) -> None:
        if self.stopped:
            return
        self.stopped = True
        deadline = time.monotonic() + timeout
        self.requests.put(None)
        if self.mode == "thread":
            self.worker.join(timeout)  # A stuck thread cannot be killed; it is a daemon and dies with the app.
            return
        # Drain results while waiting, so that the worker's last puts never block its exit.
        while self.worker.is_alive() and time.monotonic() < deadline:
            self.drain()
            self.worker.join(0.02)
        for end in (self.worker.terminate, self.worker.kill):
            if self.worker.is_alive():
                end()
                self.worker.join(1.0)
        self.requests.close()
        self.results.close()

    def drain(self) -> None:
        try:
            while True:
                self.results.get_nowait()
        except (queue.Empty, EOFError, OSError, ValueError):
            pass


class AsyncClient(_ClientBase):
    """A worker thread or process running the engine; ``submit`` and ``poll`` never block."""

    def __init__(self, mode: str = "process", *, torch_threads: int | None = None, nice: int = 0,
                 engine_factory: Callable[[], Engine] = Engine) -> None:
        super().__init__()
        if mode not in ("thread", "process"):
            raise ValueError(f"mode must be thread or process, got {mode!r}")
        if nice and mode != "process":
            raise ValueError("nice applies to a process worker only (it would slow the whole app in thread mode)")
        self.mode = mode
        self.torch_threads = torch_threads
        self.nice = nice
        self.engine_factory = engine_factory
        self._start()

    def _start(self) -> None:
        self._worker = _Worker(self.mode, torch_threads=self.torch_threads, nice=self.nice,
                               engine_factory=self.engine_factory)
        # Closed at interpreter exit too (normal or by an exception), with the same bounds as close(),
        # before multiprocessing's own exit handler, which would join a stuck worker without a bound.
        atexit.register(self._worker.stop)

    def submit(self, request: EditRequest, *, barrier: bool = False) -> int:
        stamped = self._stamp(request, barrier)
        self._worker.requests.put(stamped)
        return stamped.stamp

    def poll(self) -> EditResult | None:
        """The newest acceptable result that arrived since the last poll, or None."""
        newest = None
        while True:
            try:
                result = self._worker.results.get_nowait()
            except queue.Empty:
                break
            except (EOFError, OSError, ValueError):
                break  # The worker died mid-message or the client is closed; ``alive`` tells.
            accepted = self._accept(result)
            if accepted is not None:
                newest = accepted if newest is None else fold_skipped(newest, accepted)
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

    def sleep(self, seconds: float) -> bool:
        if self.mode != "process":
            return super().sleep(seconds)
        try:
            # The results queue's read end: readable as soon as the worker has sent a result.
            return bool(mp.connection.wait([self._worker.results._reader], timeout=seconds))
        except (OSError, ValueError):  # closed while the worker restarts
            time.sleep(seconds)
            return False

    @property
    def alive(self) -> bool:
        return self._worker.worker.is_alive()

    @property
    def worker_pid(self) -> int:
        """The worker's process id (this process's own in thread mode)."""
        return self._worker.worker.pid if self.mode == "process" else os.getpid()

    def restart(self) -> None:
        """Replace the worker (e.g. after a hang or crash) and resend the last request; the window stays."""
        self.close(timeout=1.0)
        self._start()
        if self.last_request is not None:
            self._worker.requests.put(self._resent())

    def close(self, *, timeout: float = 5.0) -> None:
        atexit.unregister(self._worker.stop)
        self._worker.stop(timeout)


def fold_skipped(skipped: EditResult, newest: EditResult) -> EditResult:
    """``newest`` carrying what ``skipped`` (an earlier result that arrived in the same poll, so no caller saw
    it) said about its own chunk: its notice, and for the same request its steps, compute time, stage timings
    and spans.
    Images and latents are state, and the newest holds them; these are per chunk, and without them a slow
    frame would lose a request's queue wait from the profiler, a K-lowered notice from the screen, or the
    solver step that answers a stroke from the latency tracker."""
    notice = "; ".join(dict.fromkeys(n for n in (skipped.notice, newest.notice) if n)) or None
    if skipped.stamp != newest.stamp:
        return dataclasses.replace(newest, notice=notice)
    timings = dict(skipped.timings)
    for name, seconds in newest.timings.items():
        timings[name] = timings.get(name, 0.0) + seconds
    return dataclasses.replace(newest, notice=notice, chunk_steps=skipped.chunk_steps + newest.chunk_steps,
                               compute_seconds=skipped.compute_seconds + newest.compute_seconds,
                               timings=timings, spans=skipped.spans + newest.spans)


def make_client(mode: str = "process", *, torch_threads: int | None = None, nice: int = 0,
                engine_factory: Callable[[], Engine] = Engine):
    """A client whose worker starts at once: ``submit`` the first request right away, and torch and
    the model load while the caller opens its window."""
    if mode == "sync":
        return SyncClient(engine_factory=engine_factory)
    return AsyncClient(mode, torch_threads=torch_threads, nice=nice if mode == "process" else 0,
                       engine_factory=engine_factory)
