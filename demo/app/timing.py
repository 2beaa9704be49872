"""Per-frame stage times and input-to-response latency (kept separable for profiling and the watchdog)."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np

STAGES = ("input", "submit", "poll", "upload", "draw", "present")


@dataclass
class FrameRecord:
    """One frame: when it started and how long each stage took (seconds)."""

    index: int
    start: float
    stages: dict[str, float] = field(default_factory=dict)
    new_result: bool = False
    submitted: int | None = None  # stamp of the request sent this frame
    drawn: bool = True  # False: nothing changed, so nothing was drawn or presented

    @property
    def total(self) -> float:
        return sum(self.stages.values())


class StageTimer:
    """``with timer.stage("poll"):`` style timing into the current FrameRecord."""

    def __init__(self, clock):
        self.clock = clock
        self.record: FrameRecord | None = None
        self._mark = 0.0

    def begin(self, record: FrameRecord) -> None:
        self.record = record
        self._mark = record.start

    def end(self, name: str) -> float:
        """Close stage ``name`` at the current time (it began where the previous stage ended)."""
        now = self.clock()
        self.record.stages[name] = now - self._mark
        self._mark = now
        return now


class FrameStats:
    """The last ``keep`` drawn frames: fps and percentiles of frame time."""

    def __init__(self, keep: int = 240):
        self.records: collections.deque[FrameRecord] = collections.deque(maxlen=keep)

    def add(self, record: FrameRecord) -> None:
        self.records.append(record)

    def fps(self) -> float:
        if len(self.records) < 2:
            return 0.0
        span = self.records[-1].start - self.records[0].start
        return (len(self.records) - 1) / span if span > 0 else 0.0

    def percentile(self, q: float, stage: str | None = None) -> float:
        if not self.records:
            return 0.0
        values = [r.stages.get(stage, 0.0) if stage else r.total for r in self.records]
        return float(np.percentile(values, q))


class LatencyTracker:
    """Input -> first presented frame showing a solver step that saw that input.

    ``input(t)`` marks an edit at time t; ``submitted(stamp)`` ties the edits since the last submit to
    that request; a result with ``chunk_steps > 0`` and a stamp at or past it resolves them; the frame
    that then presents closes them with ``presented(t)``.
    """

    def __init__(self, keep: int = 240):
        self._unsent: float | None = None
        self._waiting: list[tuple[int, float]] = []
        self._shown: list[float] = []
        self.recent: collections.deque[float] = collections.deque(maxlen=keep)
        self.all: list[float] = []

    def input(self, t: float) -> None:
        if self._unsent is None:
            self._unsent = t

    def submitted(self, stamp: int) -> None:
        if self._unsent is not None:
            self._waiting.append((stamp, self._unsent))
            self._unsent = None

    def result(self, stamp: int, chunk_steps: int) -> None:
        if chunk_steps <= 0:
            return
        self._shown += [t for s, t in self._waiting if s <= stamp]
        self._waiting = [(s, t) for s, t in self._waiting if s > stamp]

    def presented(self, t: float) -> None:
        for start in self._shown:
            self.recent.append(t - start)
            self.all.append(t - start)
        self._shown = []

    def reset(self) -> None:
        """Forget pending inputs (after a worker restart or a barrier)."""
        self._unsent = None
        self._waiting = []
        self._shown = []

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.recent, q)) if self.recent else 0.0
