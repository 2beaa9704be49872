"""The named, timed stages of one engine chunk, and the worker's memory, for the profiler (cheap).

Spans are (name, start, end) in ``time.perf_counter()``, which on Linux is CLOCK_MONOTONIC and so
comparable between the window's process and the worker's.
"""

from __future__ import annotations

import mmap


class Stages:
    """Named, timed stages of one chunk: spans (name, start, end) and per-name totals in seconds."""

    def __init__(self) -> None:
        self.spans: list[tuple[str, float, float]] = []
        self.timings: dict[str, float] = {}

    def add(self, name: str, start: float, end: float) -> None:
        self.spans.append((name, start, end))
        self.timings[name] = self.timings.get(name, 0.0) + (end - start)

    def total(self, name: str, seconds: float) -> None:
        """A total without a span of its own (e.g. the forward passes inside a chunk of steps)."""
        self.timings[name] = self.timings.get(name, 0.0) + seconds


def resident_mb() -> float:
    """This process's resident memory in MB (one small read of /proc on Linux)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * mmap.PAGESIZE / 2**20
    except OSError:
        import psutil

        return psutil.Process().memory_info().rss / 2**20
