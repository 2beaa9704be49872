"""The soak test's two parts (``python -m demo soak``): a simulated visitor and the measurements.

``SoakVisitor`` plays the bundled sessions in a loop as a visitor would, through pygame's real event
queue: it taps the palette swatch and the tool for each stroke, then draws the stroke at the
session's own pace; now and then it saves (Ctrl+S) or floods the input with 1000 pointer events per
second. Between sessions it leaves idle gaps in turn: one past ``idle_seconds`` (the kiosk first
saves and clears the edit at ``reset_seconds``, then the attract loop runs until the next visitor's
first touch wakes it), a short one, and one past ``reset_seconds`` only. The first visit floods and
saves and the first gap runs into the attract loop, so that every path has run once within the
warm-up, before the memory baseline is taken.

``SoakMonitor`` keeps what the report needs: resident memory of the app and its worker process
(sampled every few seconds; the start is taken after the warm-up), drawn frame times bucketed per
minute (p95 per minute shows drift), errors (engine errors, error notices, exceptions) and counts.
"""

from __future__ import annotations

import collections
import os
from dataclasses import dataclass

import numpy as np
import pygame

from demo.tools.brushes import BRUSHES
from demo.tools.session import Session

FLOOD_RATE = 1000  # pointer events per second during a flood
FLOOD_SECONDS = 2.0
MEMORY_PERIOD = 5.0  # seconds between memory samples


@dataclass(frozen=True)
class Step:
    t: float  # seconds after the visit began
    kind: str  # tap_swatch | tap_tool | down | move | up | save | flood
    x: float = 0.0  # image coordinates (0..1) for pointer steps
    y: float = 0.0
    value: object = None  # the colour or tool for taps


def visit_steps(session: Session, *, save: bool, flood: bool) -> list[Step]:
    """One visit: each stroke preceded by taps on its colour and tool; a flood stroke and a save if asked."""
    steps: list[Step] = []
    offset = 0.0
    for event in session.events:
        t = event.t + offset
        if event.type == "down":
            if BRUSHES[event.tool].uses_color:
                steps.append(Step(t, "tap_swatch", value=event.color))
            steps.append(Step(t + 0.15, "tap_tool", value=event.tool))
            offset += 0.3
            steps.append(Step(event.t + offset, "down", event.x, event.y))
        elif event.type in ("move", "up"):
            steps.append(Step(t, event.type, event.x, event.y))
        elif event.type == "command":
            continue  # the visitor's own commands are the taps and saves below
    end = steps[-1].t if steps else 0.0
    if flood:
        steps.append(Step(end + 0.5, "flood"))
        end += 0.5 + FLOOD_SECONDS
    if save:
        steps.append(Step(end + 1.0, "save"))
        end += 1.0
    return steps


class SoakVisitor:
    def __init__(self, sessions: list[Session], *, reset_seconds: float, idle_seconds: float, attract_watch: float = 20.0):
        self.sessions = sessions
        # The idle gaps after each visit, in turn: into the attract loop (the reset comes first), short, past the reset.
        self.gaps = (idle_seconds + attract_watch, 2.0, reset_seconds + 3.0)
        self.visits = 0
        self.strokes = 0
        self.saves = 0
        self.floods = 0
        self.flood_events = 0
        self._steps: collections.deque[Step] = collections.deque()
        self._began = 0.0
        self._next_visit = 0.0
        self._gap_scheduled = True  # the first visit begins at once
        self._flood_until: float | None = None
        self._flood_started = 0.0
        self._flood_posted = 0
        self._last_point = (0.5, 0.5)

    def post_due(self, app, now: float) -> None:
        """Post every step that is due into pygame's event queue."""
        if not self._steps and self._flood_until is None and now >= self._next_visit:
            self._begin_visit(now)
        while self._steps and self._began + self._steps[0].t <= now:
            self._post(app, self._steps.popleft(), now)
        if self._flood_until is not None:
            self._flood(app, now)
        if not self._steps and self._flood_until is None and not self._gap_scheduled:
            self._next_visit = now + self.gaps[(self.visits - 1) % len(self.gaps)]
            self._gap_scheduled = True

    def _begin_visit(self, now: float) -> None:
        session = self.sessions[self.visits % len(self.sessions)]
        self._steps.extend(visit_steps(session, save=self.visits % 3 == 0, flood=self.visits % 4 == 0))
        self._began = now
        self._gap_scheduled = False
        self.visits += 1

    def _post(self, app, step: Step, now: float) -> None:
        layout = app.layout
        if step.kind == "tap_swatch":
            swatch = min(layout.swatches, key=lambda w: sum((a - b) ** 2 for a, b in zip(w.target.value, step.value)))
            self._tap(swatch.rect)
        elif step.kind == "tap_tool":
            (tool,) = [w for w in layout.tools if w.target.value == step.value]
            self._tap(tool.rect)
        elif step.kind in ("down", "move", "up"):
            self._last_point = (step.x, step.y)
            position = self._window(app, step.x, step.y)
            if step.kind == "move":
                _post(pygame.MOUSEMOTION, pos=position, rel=(1, 0), buttons=(1, 0, 0))
            else:
                _post(pygame.MOUSEBUTTONDOWN if step.kind == "down" else pygame.MOUSEBUTTONUP, pos=position, button=1)
                self.strokes += step.kind == "up"
        elif step.kind == "save":
            _post(pygame.KEYDOWN, key=pygame.K_s, mod=pygame.KMOD_LCTRL, unicode="", scancode=0)
            _post(pygame.KEYUP, key=pygame.K_s, mod=pygame.KMOD_LCTRL, unicode="", scancode=0)
            self.saves += 1
        elif step.kind == "flood":
            self._flood_until = now + FLOOD_SECONDS
            self._flood_started = now
            self._flood_posted = 0
            self.floods += 1
            _post(pygame.MOUSEBUTTONDOWN, pos=self._window(app, 0.2, 0.5), button=1)

    def _flood(self, app, now: float) -> None:
        """A 1000 Hz pointer sweeping across the canvas and back: as many events as are due by now."""
        elapsed = min(now, self._flood_until) - self._flood_started
        due = int(elapsed * FLOOD_RATE)
        for i in range(self._flood_posted, due):
            phase = (i / FLOOD_RATE) / FLOOD_SECONDS  # 0..1 over the flood
            u = 0.2 + 0.6 * (1 - abs(2 * phase - 1))
            v = 0.5 + 0.1 * np.sin(40 * np.pi * phase)
            _post(pygame.MOUSEMOTION, pos=self._window(app, u, v), rel=(1, 0), buttons=(1, 0, 0))
        self.flood_events += max(0, due - self._flood_posted)
        self._flood_posted = max(self._flood_posted, due)
        if now >= self._flood_until:
            _post(pygame.MOUSEBUTTONUP, pos=self._window(app, 0.2, 0.5), button=1)
            self.strokes += 1
            self._flood_until = None

    @property
    def flooding(self) -> bool:
        return self._flood_until is not None

    @staticmethod
    def _window(app, u: float, v: float) -> tuple[float, float]:
        x, y, w, h = app.layout.canvas
        return x + u * w, y + v * h

    @staticmethod
    def _tap(rect) -> None:
        x, y, w, h = rect
        centre = (x + w / 2, y + h / 2)
        _post(pygame.MOUSEBUTTONDOWN, pos=centre, button=1)
        _post(pygame.MOUSEBUTTONUP, pos=centre, button=1)


def _post(kind: int, **fields) -> None:
    if kind in (pygame.MOUSEMOTION, pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):
        fields["touch"] = False
    pygame.event.post(pygame.event.Event(kind, fields))


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

    def after_frame(self, app, now: float) -> None:
        """Errors the frame showed, and a memory sample when one is due (after the warm-up)."""
        error = app.controller.error
        if error and error != self._last_error:
            self.errors[error.strip().splitlines()[0][:160]] += 1
        self._last_error = error
        notice = app.ui.notice
        if notice is not None and notice is not self._last_notice and notice.kind == "error":
            self.errors[notice.text[:160]] += 1
        self._last_notice = notice
        if now >= self._next_sample and now - self.started >= self.warmup:
            self.sample(app, now)

    def sample(self, app, now: float) -> None:
        """One memory sample now."""
        self._next_sample = now + MEMORY_PERIOD
        self.memory.append((now - self.started, *self._rss(app)))

    def _per_minute(self) -> list[float]:
        last: dict[int, float] = {}
        for t, app_mb, worker_mb in self.memory:
            last[int(t // 60)] = round(app_mb + worker_mb, 1)
        return [last[minute] for minute in sorted(last)]

    def exception(self, text: str) -> None:
        self.errors[text[:160]] += 1

    def _rss(self, app) -> tuple[float, float]:
        """Resident MB of this process (window, UI) and of the worker process (0 for an in-process worker)."""
        own = self.psutil.Process(os.getpid()).memory_info().rss / 2**20
        result = app.controller.result
        pid = result.worker_pid if result is not None else 0
        if not pid or pid == os.getpid():
            return own, 0.0
        try:
            return own, self.psutil.Process(pid).memory_info().rss / 2**20
        except self.psutil.Error:
            return own, 0.0

    def report(self, app, visitor: SoakVisitor, *, seconds_run: float) -> dict:
        first = self.memory[0] if self.memory else (0.0, 0.0, 0.0)
        last = self.memory[-1] if self.memory else first
        drawn = [ms for minute in sorted(self.minutes) for ms in self.minutes[minute]]
        kiosk = app.kiosk
        result = app.controller.result
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
            "frame_ms_p95": round(float(np.percentile(drawn, 95)), 2) if drawn else 0.0,
            "frame_ms_p95_during_floods": (round(float(np.percentile(self.flood_frames, 95)), 2)
                                           if self.flood_frames else None),
            "errors": sum(self.errors.values()),
            "error_messages": dict(self.errors.most_common(20)),
            "worker_restarts": app.worker_restarts,
            "frames": self.frames,
            "frames_drawn": self.frames_drawn,
            "visitor": {"visits": visitor.visits, "strokes": visitor.strokes, "saves": visitor.saves,
                        "floods": visitor.floods, "flood_events": visitor.flood_events},
            "kiosk": {"attract_rounds": kiosk.attract.rounds, "resets": kiosk.resets,
                      "unattended_saves": kiosk.unattended_saves, "wakes": kiosk.wakes},
            "autosave_writes": app.autosave.writes,
            "device": result.device if result is not None else "",
            "candidates": result.candidates if result is not None else 0,
            "worker": app.client.mode,
            "cpu_count": os.cpu_count(),
            "load_average": [round(v, 2) for v in os.getloadavg()],
        }
