"""The frame: a fixed sequence of named stages, each timed, then paced (no GL; the clock is injected).

``FrameLoop.tick`` runs input, rasterise, submit, poll, upload, draw and present in order, closing
each stage in the frame's ``FrameRecord`` as it ends, and hands the record to its listeners (the
HUD statistics, the profiler). ``Pacer.wait`` then sleeps out the rest of the frame:

- without vsync, until ``1 / max_fps`` after the frame started;
- with vsync, presenting already waited for the display, but only for a frame that was drawn: a
  frame with nothing to draw is not presented, so the pacer sleeps for it as well. An idle window
  therefore sleeps instead of spinning on the event queue, with vsync or without.

The app's sleep ends early when the worker sends a result, so a result is shown when it arrives
rather than up to a frame later.
"""

from __future__ import annotations

import time
from typing import Callable, Iterable

from demo.app.loop.timing import STAGES, FrameRecord

Stage = Callable[[FrameRecord], None]


class Pacer:
    def __init__(self, *, max_fps: float, vsync: Callable[[], bool], clock=time.perf_counter, sleep=time.sleep,
                 idle_fps: float = 60.0):
        self.max_fps = max_fps  # 0: uncapped where there is no vsync
        self.vsync = vsync
        self.clock = clock
        self.sleep = sleep
        self.idle_fps = idle_fps  # how often an idle window still looks at its input

    def period(self, record: FrameRecord) -> float:
        """The least time from this frame's start to the next frame's start."""
        if record.drawn and self.vsync():
            return 0.0  # present() waited for the display
        if not record.drawn:
            return 1.0 / (self.max_fps if self.max_fps else self.idle_fps)
        return 1.0 / self.max_fps if self.max_fps else 0.0

    def wait(self, record: FrameRecord) -> float:
        """Sleep out the rest of the frame; the seconds slept."""
        remaining = record.start + self.period(record) - self.clock()
        if remaining > 0:
            self.sleep(remaining)
            return remaining
        return 0.0


class FrameLoop:
    def __init__(self, stages: dict[str, Stage], *, pacer: Pacer, clock=time.perf_counter,
                 listeners: Iterable[Callable[[FrameRecord], None]] = ()):
        if tuple(stages) != STAGES:
            raise ValueError(f"a frame runs the stages {STAGES}, got {tuple(stages)}")
        self.stages = stages
        self.pacer = pacer
        self.clock = clock
        self.listeners = list(listeners)
        self.index = 0
        self.first_start: float | None = None
        self.last: FrameRecord | None = None

    def tick(self) -> FrameRecord:
        """Run one frame's stages, timing each."""
        record = FrameRecord(index=self.index, start=self.clock())
        if self.first_start is None:
            self.first_start = record.start
        for name, stage in self.stages.items():
            stage(record)
            record.mark(name, self.clock())
        self.index += 1
        self.last = record
        for listener in self.listeners:
            listener(record)
        return record

    def run(self, keep_going: Callable[[FrameRecord], bool]) -> None:
        """Tick and pace until ``keep_going(record)`` says stop."""
        while True:
            record = self.tick()
            if not keep_going(record):
                return
            self.pacer.wait(record)
