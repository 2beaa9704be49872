"""The soak test's two parts (``python -m demo soak``): a simulated visitor and the measurements.

``SoakVisitor`` plays the bundled sessions in a loop as a visitor would, through pygame's real event
queue: it taps the palette swatch and the tool for each stroke, then draws the stroke at the
session's own pace; now and then it saves (Ctrl+S) or floods the input with 1000 pointer events per
second. Between sessions it leaves idle gaps in turn: one past ``idle_seconds`` (the kiosk first
saves and clears the edit at ``reset_seconds``, then the attract loop runs until the next visitor's
first touch wakes it), a short one, and one past ``reset_seconds`` only. The first visit floods and
saves and the first gap runs into the attract loop, so that every path has run once within the
warm-up, before the memory baseline is taken.

What the soak measures is in ``demo/bench/soak_monitor.py``.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass

import numpy as np
import pygame

from demo.app.render.layout import Layout
from demo.tools.brushes import BRUSHES
from demo.tools.session import Session

FLOOD_RATE = 1000  # pointer events per second during a flood
FLOOD_SECONDS = 2.0


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

    def post_due(self, layout: Layout, now: float) -> None:
        """Post every step that is due into pygame's event queue, aimed at the window's ``layout``."""
        if not self._steps and self._flood_until is None and now >= self._next_visit:
            self._begin_visit(now)
        while self._steps and self._began + self._steps[0].t <= now:
            self._post(layout, self._steps.popleft(), now)
        if self._flood_until is not None:
            self._flood(layout, now)
        if not self._steps and self._flood_until is None and not self._gap_scheduled:
            self._next_visit = now + self.gaps[(self.visits - 1) % len(self.gaps)]
            self._gap_scheduled = True

    def _begin_visit(self, now: float) -> None:
        session = self.sessions[self.visits % len(self.sessions)]
        self._steps.extend(visit_steps(session, save=self.visits % 3 == 0, flood=self.visits % 4 == 0))
        self._began = now
        self._gap_scheduled = False
        self.visits += 1

    def _post(self, layout: Layout, step: Step, now: float) -> None:
        if step.kind == "tap_swatch":
            swatch = min(layout.swatches, key=lambda w: sum((a - b) ** 2 for a, b in zip(w.target.value, step.value)))
            self._tap(swatch.rect)
        elif step.kind == "tap_tool":
            (tool,) = [w for w in layout.tools if w.target.value == step.value]
            self._tap(tool.rect)
        elif step.kind in ("down", "move", "up"):
            self._last_point = (step.x, step.y)
            position = self._window(layout, step.x, step.y)
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
            _post(pygame.MOUSEBUTTONDOWN, pos=self._window(layout, 0.2, 0.5), button=1)

    def _flood(self, layout: Layout, now: float) -> None:
        """A 1000 Hz pointer sweeping across the canvas and back: as many events as are due by now."""
        elapsed = min(now, self._flood_until) - self._flood_started
        due = int(elapsed * FLOOD_RATE)
        for i in range(self._flood_posted, due):
            phase = (i / FLOOD_RATE) / FLOOD_SECONDS  # 0..1 over the flood
            u = 0.2 + 0.6 * (1 - abs(2 * phase - 1))
            v = 0.5 + 0.1 * np.sin(40 * np.pi * phase)
            _post(pygame.MOUSEMOTION, pos=self._window(layout, u, v), rel=(1, 0), buttons=(1, 0, 0))
        self.flood_events += max(0, due - self._flood_posted)
        self._flood_posted = max(self._flood_posted, due)
        if now >= self._flood_until:
            _post(pygame.MOUSEBUTTONUP, pos=self._window(layout, 0.2, 0.5), button=1)
            self.strokes += 1
            self._flood_until = None

    @property
    def flooding(self) -> bool:
        return self._flood_until is not None

    @staticmethod
    def _window(layout: Layout, u: float, v: float) -> tuple[float, float]:
        x, y, w, h = layout.canvas
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
