"""Feeding a recorded session in real time through the app's input path (``profile``; no GL).

Unlike the replay (demo/app/edit/replay.py), which waits for the solver at every stroke boundary, the
live feeder never waits: events are due at the times their timestamps say, counted from the first
frame that showed a generated image, and each one goes in as the pen would: tool and colour as
actions, pointer samples through ``InputRouter.pointer`` at window pixels, commands as actions.
Each carries the time it was due, so pen-to-image latency is measured from when it "happened".
"""

from __future__ import annotations

from demo.input.actions import Action
from demo.tools.brushes import BRUSHES
from demo.tools.session import Session

SOURCE = "feed"  # the pointer name the router sees


class LiveFeeder:
    def __init__(self, session: Session, *, clock):
        self.events = list(session.events)
        self.clock = clock
        self.position = 0
        self.t0: float | None = None

    @property
    def done(self) -> bool:
        return self.position >= len(self.events)

    def start(self, now: float) -> None:
        if self.t0 is None:
            self.t0 = now - (self.events[0].t if self.events else 0.0)

    def startup_mark(self, mark: str, t: float) -> None:
        """A StartupMarks listener: the session's clock starts with the first generated image on screen."""
        if mark == "first_image":
            self.start(t)

    def feed(self, router, act) -> int:
        """Put every event that is due into the input path; how many went in. ``act`` takes UI actions."""
        if self.t0 is None:
            return 0
        now, fed = self.clock(), 0
        while self.position < len(self.events) and self.t0 + self.events[self.position].t <= now:
            event = self.events[self.position]
            self.position += 1
            self._put(event, router, act, at=self.t0 + event.t)
            fed += 1
        return fed

    @staticmethod
    def _put(event, router, act, *, at: float) -> None:
        canvas = router.sink.canvas
        if event.type == "down":
            if BRUSHES[event.tool].uses_color:
                act(Action(name="color", value=event.color))  # (also picks the color tool)
            act(Action(name="tool", value=event.tool))
            act(Action(name="width", value=event.width))
        if event.type in ("down", "move"):
            router.pointer(SOURCE, event.type, *canvas.to_window(event.x, event.y), event.pressure, at=at)
        elif event.type == "up":
            router.pointer(SOURCE, "up", *(router.cursor or (canvas.x, canvas.y)), 0.0, at=at)
        elif event.type == "command" and event.name == "pick":
            router.act(Action(name="pick", value=event.index), at=at)
        elif event.type == "command":
            router.act(Action(name="command", value=event.name), at=at)
