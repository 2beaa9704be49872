"""Replaying a recorded session through the same path as live input, deterministically.

Session time advances by ``frame_seconds`` per drawn frame (not by wall time), so strokes appear at
their recorded pace on a 60 Hz display, and a slow frame never skips events. The solver sees only
stroke boundaries: after each ``up`` and each command, the edit so far is submitted with the full step
budget, and time stops until the engine has spent it (the app keeps drawing meanwhile). The solver
therefore sees the same sequence of (constraints, steps, command) whatever the machine's speed or
load, and a replay gives the same images for a given seed and device. (Live sessions are not
reproduced exactly: there the solver also ran on intermediate states of each stroke.)
"""

from __future__ import annotations

from typing import Callable

from demo.app.edit.controller import EditController
from demo.tools.session import Event, Session


class ReplayFeeder:
    def __init__(self, session: Session, *, frame_seconds: float = 1 / 60):
        self.events = list(session.events)
        self.frame_seconds = frame_seconds
        self.position = 0
        self.clock = 0.0
        self.waiting = True  # for the model to load and the start to be ranked
        self.wants_submit = True

    @property
    def done(self) -> bool:
        return self.position >= len(self.events) and not self.waiting and not self.wants_submit

    def take_submit(self) -> bool:
        """True once after a boundary: the app must submit the edit now."""
        wants, self.wants_submit = self.wants_submit, False
        return wants

    def step(self, controller: EditController, apply: Callable[[Event], None]) -> None:
        """Feed the events due this frame, unless the engine is still working on the last boundary."""
        if self.waiting:
            if self.wants_submit or not controller.idle:
                return
            self.waiting = False
        if self.position >= len(self.events):
            return
        self.clock += self.frame_seconds
        while self.position < len(self.events) and self.events[self.position].t <= self.clock:
            event = self.events[self.position]
            self.position += 1
            apply(event)
            if event.type in ("up", "command") or self.position == len(self.events):
                self.wants_submit = self.waiting = True
                self.clock = event.t  # Time resumes from here once the engine is done.
                return
