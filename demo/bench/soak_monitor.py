"""What the soak test measures (``python -m demo soak``).

``SoakMonitor`` keeps what the report needs: resident memory of the app and its worker process
(sampled every few seconds; the start is taken after the warm-up), drawn frame times bucketed per
minute (p95 per minute shows drift), errors (engine errors, error notices, exceptions) and counts.
Beside each memory sample it reads the CPU time of the app, of its worker and of the whole machine,
so that a minute whose frames were slow can be told apart: the app's own doing, or other programs
sharing the CPU (a soak on a shared machine is only as quiet as its neighbours).
"""

from __future__ import annotations

import collections
import dataclasses
import os
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from demo.app.status import AppStatus
    from demo.bench.soak_visitor import SoakVisitor

MEMORY_PERIOD = 5.0  # seconds between memory samples
VISIT_COUNTS = ("visits", "strokes", "saves")  # the kiosk's counts of visitors, reported apart from its own doings


class SoakMonitor:
    def __init__(self, *, clock, warmup: float, started: float, flooding=lambda: False):
        """``flooding()`` says whether the visitor is flooding the input now (its frames are also kept apart)."""
        import psutil

        self.psutil = psutil
        self.clock = clock
        self.warmup = warmup
        self.started = started
        self.frames = 0
        self.frames_drawn = 0
        self.minutes: dict[int, list[float]] = collections.defaultdict(list)  # minute -> drawn frame ms
        self.flooding = flooding
        self.flood_frames: list[float] = []  # drawn frame ms during input floods
        self.memory: list[tuple[float, float, float]] = []  # (seconds, app MB, worker MB)
        self.cpu: list[tuple[float, float, float, float]] = []  # (seconds, machine busy, app, worker) CPU seconds
        self.errors: collections.Counter[str] = collections.Counter()
        self._next_sample = started
        self._last_error: str | None = None
        self._last_notice = None

    def frame(self, record) -> None:
        """A frame-loop listener."""
        self.frames += 1
        if record.drawn:
            self.frames_drawn += 1
            self.minutes[int((record.start - self.started) // 60)].append(record.total * 1000)
            if self.flooding():
                self.flood_frames.append(record.total * 1000)

    def after_frame(self, status: AppStatus, now: float) -> None:
        """Errors the frame showed, and a memory sample when one is due (after the warm-up)."""
        error = status.error
        if error and error != self._last_error:
            self.errors[error.strip().splitlines()[0][:160]] += 1
        self._last_error = error
        notice = status.notice
        if notice is not None and notice is not self._last_notice and notice.kind == "error":
            self.errors[notice.text[:160]] += 1
        self._last_notice = notice
        if now >= self._next_sample and now - self.started >= self.warmup:
            self.sample(status, now)

    def sample(self, status: AppStatus, now: float) -> None:
        """One memory sample now."""
        self._next_sample = now + MEMORY_PERIOD
        self.memory.append((now - self.started, *self._rss(status)))
        self.cpu.append((now - self.started, *self._cpu_seconds(status)))

    def _cpu_seconds(self, status: AppStatus) -> tuple[float, float, float]:
        """CPU seconds so far: the whole machine busy (all cores), this process, the worker process."""
        machine = self.psutil.cpu_times()
        busy = sum(machine) - machine.idle - getattr(machine, "iowait", 0.0)
        own = sum(self.psutil.Process(os.getpid()).cpu_times()[:2])
        pid = self._worker_pid(status)
        try:
            worker = sum(self.psutil.Process(pid).cpu_times()[:2]) if pid else 0.0
        except self.psutil.Error:
            worker = 0.0
        return busy, own, worker

    def _cpu_share_per_minute(self) -> dict[str, list[float]]:
        """Per minute, the share of the machine's CPU (1.0 = every core busy) used by the app, its worker and
        every other program; a worker restarted within the minute counts from its own start."""
        cores = self.psutil.cpu_count() or 1
        first: dict[int, tuple] = {}
        last: dict[int, tuple] = {}
        for sample in self.cpu:
            minute = int(sample[0] // 60)
            first.setdefault(minute, sample)
            last[minute] = sample
        shares: dict[str, list[float]] = {"app": [], "worker": [], "others": []}
        for minute in sorted(first):
            (t0, busy0, app0, worker0), (t1, busy1, app1, worker1) = first[minute], last[minute]
            capacity = max(t1 - t0, 1e-9) * cores
            worker = worker1 - worker0 if worker1 >= worker0 else worker1  # a new worker counts from its start
            app_share, worker_share = (app1 - app0) / capacity, worker / capacity
            shares["app"].append(round(app_share, 3))
            shares["worker"].append(round(worker_share, 3))
            shares["others"].append(round(max(0.0, (busy1 - busy0) / capacity - app_share - worker_share), 3))
        return shares

    def _per_minute(self) -> list[float]:
        last: dict[int, float] = {}
        for t, app_mb, worker_mb in self.memory:
            last[int(t // 60)] = round(app_mb + worker_mb, 1)
        return [last[minute] for minute in sorted(last)]

    def exception(self, text: str) -> None:
        self.errors[text[:160]] += 1

    def _rss(self, status: AppStatus) -> tuple[float, float]:
        """Resident MB of this process (window, UI) and of the worker process (0 for an in-process worker)."""
        own = self.psutil.Process(os.getpid()).memory_info().rss / 2**20
        pid = self._worker_pid(status)
        if not pid:
            return own, 0.0
        try:
            return own, self.psutil.Process(pid).memory_info().rss / 2**20
        except self.psutil.Error:
            return own, 0.0

    @staticmethod
    def _worker_pid(status: AppStatus) -> int:
        """The worker's process id; 0 for a worker that runs in this process."""
        pid = status.worker_pid
        return 0 if pid == os.getpid() else pid

    def report(self, status: AppStatus, visitor: SoakVisitor, *, seconds_run: float) -> dict:
        first = self.memory[0] if self.memory else (0.0, 0.0, 0.0)
        last = self.memory[-1] if self.memory else first
        drawn = [ms for minute in sorted(self.minutes) for ms in self.minutes[minute]]
        kiosk, result = status.kiosk, status.result
        counts = dataclasses.asdict(kiosk) if kiosk is not None else {}
        return {
            "seconds_run": round(seconds_run, 1),
            "warmup_seconds": self.warmup,
            "rss_mb_start": round(first[1] + first[2], 1),
            "rss_mb_end": round(last[1] + last[2], 1),
            "rss_growth_mb": round(last[1] + last[2] - first[1] - first[2], 1),
            "rss_mb_app": [round(first[1], 1), round(last[1], 1)],
            "rss_mb_worker": [round(first[2], 1), round(last[2], 1)],
            "rss_mb_per_minute": self._per_minute(),  # the last sample of each minute: a plateau or a climb
            "frame_ms_p95_per_minute": [round(float(np.percentile(self.minutes[m], 95)), 2) for m in sorted(self.minutes)],
            # Who used the CPU each minute (the same minutes as the memory samples): slow minutes with a busy
            # "others" were shared with another program, not the app drifting.
            "cpu_share_per_minute": self._cpu_share_per_minute(),
            "frame_ms_p95": round(float(np.percentile(drawn, 95)), 2) if drawn else 0.0,
            "frame_ms_p95_during_floods": (round(float(np.percentile(self.flood_frames, 95)), 2)
                                           if self.flood_frames else None),
            "errors": sum(self.errors.values()),
            "error_messages": dict(self.errors.most_common(20)),
            "worker_restarts": status.solver_restarts,
            "frames": self.frames,
            "frames_drawn": self.frames_drawn,
            "visitor": {"visits": visitor.visits, "strokes": visitor.strokes, "saves": visitor.saves,
                        "floods": visitor.floods, "flood_events": visitor.flood_events},
            "kiosk": {key: value for key, value in counts.items() if key not in VISIT_COUNTS},
            "kiosk_visits": {key: value for key, value in counts.items() if key in VISIT_COUNTS},  # what the metrics count
            "autosave_writes": status.autosave_writes,
            "device": result.device if result is not None else "",
            "candidates": result.candidates if result is not None else 0,
            "worker": status.worker_mode,
            "cpu_count": os.cpu_count(),
            "load_average": [round(v, 2) for v in os.getloadavg()],
        }
