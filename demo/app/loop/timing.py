"""Per-frame stage times and input-to-response latency (kept separable for profiling and the watchdog)."""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

import numpy as np

# The frame's stages, in order (demo.app.loop.frame_loop runs them), each with its colour in the live
# profile graph (RGBA): one table, so a stage cannot lack a colour.
STAGE_COLORS = {
    "input": (0.55, 0.75, 1.0, 0.95), "rasterise": (0.95, 0.6, 0.25, 0.95), "submit": (0.9, 0.85, 0.3, 0.95),
    "poll": (0.6, 0.9, 0.5, 0.95), "upload": (0.35, 0.8, 0.8, 0.95), "draw": (0.8, 0.55, 0.95, 0.95),
    "present": (0.95, 0.45, 0.55, 0.95),
}
STAGES = tuple(STAGE_COLORS)


@dataclass
class FrameRecord:
    """One frame: when it started, when each stage ended, and what happened in it (clock seconds)."""

    index: int
    start: float
    stages: dict[str, float] = field(default_factory=dict)  # stage -> seconds
    ends: dict[str, float] = field(default_factory=dict)  # stage -> clock time it ended
    changed: bool = False  # something visible changed: the frame must be drawn
    drawn: bool = False  # drawn and presented (an unchanged frame is neither)
    overlay_only: bool = False  # drawn only to refresh the HUD or the live profile graph
    new_result: bool = False
    submitted: int | None = None  # stamp of the request sent this frame
    steps_done: int = 0  # the solver's steps shown in this frame
    shown_inputs: list[float] = field(default_factory=list)  # input times first shown by this frame

    @property
    def total(self) -> float:
        return sum(self.stages.values())

    @property
    def latencies(self) -> list[float]:
        """Seconds from each input this frame showed first to the end of its present stage."""
        return [self.ends["present"] - t for t in self.shown_inputs]

    def mark(self, stage: str, now: float) -> None:
        """Close ``stage`` at ``now``; it began where the previous stage ended."""
        begin = self.ends[next(reversed(self.ends))] if self.ends else self.start
        self.stages[stage] = now - begin
        self.ends[stage] = now


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
        self.all: collections.deque[float] = collections.deque(maxlen=100_000)  # bounded: a kiosk runs all day

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

    def presented(self, t: float) -> list[float]:
        """Close the inputs shown by the frame presented at ``t``; their input times."""
        shown, self._shown = self._shown, []
        for start in shown:
            self.recent.append(t - start)
            self.all.append(t - start)
        return shown

    def reset(self) -> None:
        """Forget pending inputs (after a worker restart or a barrier)."""
        self._unsent = None
        self._waiting = []
        self._shown = []

    def percentile(self, q: float) -> float:
        return float(np.percentile(self.recent, q)) if self.recent else 0.0
