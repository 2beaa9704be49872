"""Seconds per solver stage (forward, backward, Adam), summed until read, for the profiler.

On the CPU a step costs three ``perf_counter`` calls. On CUDA the stage boundaries are CUDA
events (timed on the GPU, so no stage waits for the GPU); they are read without waiting as they
complete and with one synchronisation in ``take()``. Each stage is also an NVTX range, so Nsight
Systems shows the same stages.
"""

from __future__ import annotations

import time

import torch

STAGES = ("forward", "backward", "adam")
SEGMENTS = (*STAGES, "forward")  # a step that renders ahead ends with the next step's forward
MAX_PENDING = 4096  # steps of CUDA events kept before waiting for the oldest


class StageTimer:
    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        self.nvtx = self.cuda and _nvtx_works()
        self._sums = dict.fromkeys(STAGES, 0.0)
        self._steps = 0
        self._marks: list = []
        self._pending: list[list] = []  # CUDA: one list of 4 (5 when rendered ahead) events per step

    def _mark(self):
        if not self.cuda:
            return time.perf_counter()
        event = torch.cuda.Event(enable_timing=True)
        event.record()
        return event

    def start(self) -> None:
        """The step begins (forward starts)."""
        self._marks = [self._mark()]
        if self.nvtx:
            torch.cuda.nvtx.range_push("solver.forward")

    def ahead(self) -> None:
        """After Adam's lap: the next step's forward runs now (rendered ahead); it counts as forward."""
        if self.nvtx:
            torch.cuda.nvtx.range_push("solver.forward")

    def lap(self) -> None:
        """The current stage ends and the next begins."""
        self._marks.append(self._mark())
        if self.nvtx:
            torch.cuda.nvtx.range_pop()
            if len(self._marks) <= len(STAGES):
                torch.cuda.nvtx.range_push(f"solver.{STAGES[len(self._marks) - 1]}")

    def finish(self) -> None:
        """The step is done (after the last ``lap``)."""
        marks, self._marks = self._marks, []
        self._steps += 1
        if not self.cuda:
            for stage, begin, end in zip(SEGMENTS, marks, marks[1:]):
                self._sums[stage] += end - begin
            return
        self._pending.append(marks)
        # Fold steps the GPU has finished; wait only when far too many are outstanding.
        while self._pending and (self._pending[0][-1].query() or len(self._pending) > MAX_PENDING):
            self._fold(self._pending.pop(0))

    def _fold(self, events: list) -> None:
        events[-1].synchronize()
        for stage, begin, end in zip(SEGMENTS, events, events[1:]):
            self._sums[stage] += begin.elapsed_time(end) / 1e3

    def take(self) -> dict[str, float]:
        """{"forward": s, "backward": s, "adam": s, "steps": n} since the last call, then reset."""
        for events in self._pending:
            self._fold(events)
        self._pending = []
        result = {**self._sums, "steps": self._steps}
        self._sums = dict.fromkeys(STAGES, 0.0)
        self._steps = 0
        return result


def _nvtx_works() -> bool:
    """NVTX ranges need the NVTX library of a CUDA build; without it the timer still times."""
    try:
        torch.cuda.nvtx.range_push("probe")
        torch.cuda.nvtx.range_pop()
    except Exception:  # Any failure here only means no Nsight ranges.
        return False
    return True
