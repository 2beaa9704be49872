"""One chunk of solver steps: until its time is up, or a newer request waits.

A chunk is about ``chunk_seconds`` long and at least one step; ``should_stop()`` is asked after
each step, so a new stroke waits for at most one step. The solver's own stage timings (forward,
backward, Adam) are collected into the chunk's ``Stages``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from demo.engine.api import ADAM, BACKWARD, FORWARD, STEP
from demo.engine.stages import Stages

SOLVER_TIMINGS = {"forward": FORWARD, "backward": BACKWARD, "adam": ADAM}


@dataclass(frozen=True)
class ChunkOutcome:
    steps: int
    newer: bool  # cut short because a newer request is waiting
    seconds_per_step: float | None  # None when no step ran


def run_chunk(solver, *, budget: int, chunk_seconds: float, should_stop: Callable[[], bool] | None,
              solver_stops: bool, synchronize: Callable[[], None] | None, stages: Stages) -> ChunkOutcome:
    """Step ``solver`` at most ``budget`` times; ``solver_stops`` says its ``step`` takes ``should_stop``."""
    began = time.perf_counter()
    newer, asked = False, 0

    def stop() -> bool:
        """Asked after each step: a newer request waits, or one more step would overrun the chunk."""
        nonlocal newer, asked
        asked += 1
        newer = newer or (should_stop is not None and should_stop())
        elapsed = time.perf_counter() - began
        return newer or elapsed * (asked + 1) / asked > chunk_seconds

    if solver_stops:
        done = solver.step(budget, should_stop=stop)
    else:
        done = 0
        while done < budget and not (done and stop()):
            solver.step(1)
            done += 1
    if synchronize is not None:  # On CUDA the host runs ahead of the device.
        synchronize()
    ended = time.perf_counter()
    if done:
        stages.add(STEP, began, ended)
    take_timings = getattr(solver, "take_timings", None)
    if take_timings is not None:
        for name, seconds in take_timings().items():
            if name in SOLVER_TIMINGS:
                stages.total(SOLVER_TIMINGS[name], seconds)
    return ChunkOutcome(steps=done, newer=newer, seconds_per_step=(ended - began) / done if done else None)
