"""The attract loop: what an idle exhibition screen shows (no GL; drives the app through its input path).

Each round starts fresh (a ``reset`` command: a new start, one of the model's curated good starts
where the engine has them), then plays one bundled session in real time through ``LiveFeeder``, as a
pen would; once the solver has settled (or ``settle_seconds`` passed) it plays the morph from the
start to the painted picture (strokes hidden) for ``morph_seconds``, and moves on to the next session, in a loop.
"""

from __future__ import annotations

import sys
from pathlib import Path

from demo.app.edit.feeder import SOURCE as FEED_SOURCE
from demo.app.edit.feeder import LiveFeeder
from demo.app.kiosk.config import KioskConfig
from demo.app.kiosk.host import KioskHost
from demo.input.actions import Action
from demo.tools.session import Session, read_session

PLAY, SETTLE, MORPH = "play", "settle", "morph"


def load_attract_sessions(config: KioskConfig, *, model: str) -> list[Session]:
    """The attract loop's sessions for ``model`` (``sessions_for``); a UserError line if the glob finds none
    or one is malformed."""
    from demo.errors import UserError

    paths = config.session_paths()
    if not paths:
        raise UserError(f"attract_sessions {config.attract_sessions!r}: no session files match")
    chosen, warning = sessions_for([read_session(path) for path in paths], model)
    if warning is not None:
        print(f"warning: {warning}", file=sys.stderr)
    return chosen


def sessions_for(sessions: list[Session], model: str) -> tuple[list[Session], str | None]:
    """(sessions, warning): those painted for ``model`` (a name, or a path named after it: the meta's ``model``)
    and those for any model (no ``model`` in their meta), in order; when there are none, all of them and a
    line that says so. A landscape's strokes over a portrait paint an orange sky across a face."""
    name = Path(model).stem
    chosen = [session for session in sessions if _painted_for(session) in (None, name)]
    if chosen:
        return chosen, None
    painted_for = sorted({_painted_for(session) for session in sessions})
    return sessions, (f"no attract session is painted for {name} (they are for {', '.join(painted_for)}); "
                      f"the attract loop plays them all")


def _painted_for(session: Session) -> str | None:
    """The model a session was painted on, by name (a recording names its model as the app was given it)."""
    model = session.meta.get("model")
    return None if model is None else Path(str(model)).stem


class AttractLoop:
    def __init__(self, sessions: list[Session], *, settle_seconds: float, morph_seconds: float, fresh_start,
                 host: KioskHost, router, controller):
        """``fresh_start()`` clears the edit for a new round (the kiosk's own fresh start); the rounds are fed
        through ``router`` and the ``host``'s action path, and wait for ``controller`` to settle."""
        if not sessions:
            raise ValueError("the attract loop needs at least one session")
        self.sessions = sessions
        self.settle_seconds = settle_seconds
        self.morph_seconds = morph_seconds
        self.next_index = 0  # the session the next round plays (rounds go on where the last loop stopped)
        self.rounds = 0
        self.phase: str | None = None  # None: not running
        self.phase_started = 0.0
        self.feeder: LiveFeeder | None = None
        self.fresh_start = fresh_start
        self.host = host
        self.router = router
        self.controller = controller

    @property
    def running(self) -> bool:
        return self.phase is not None

    def start(self, now: float) -> None:
        """Begin a round (the caller has just made a fresh start)."""
        session = self.sessions[self.next_index % len(self.sessions)]
        self.next_index += 1
        self.rounds += 1
        self.feeder = LiveFeeder(session, clock=self.host.clock)
        self.feeder.start(now)
        self._enter(PLAY, now)

    def step(self, now: float) -> bool:
        """Advance the round; True if something visible changed."""
        host = self.host
        if self.phase == PLAY:
            self.feeder.feed(self.router, host.on_action)
            if self.feeder.done:
                if host.ui.show_overlay:
                    host.on_action(Action(name="toggle_overlay"))  # the finished picture, without the strokes over it
                self._enter(SETTLE, now)
            return True
        if self.phase == SETTLE:
            if self.controller.idle or now - self.phase_started >= self.settle_seconds:
                host.on_action(Action(name="morph_play"))  # plays where the engine sent morph frames
                self._enter(MORPH, now)
            return False
        if self.phase == MORPH and now - self.phase_started >= self.morph_seconds:
            self.fresh_start()
            self.start(now)
            return True
        return False

    def stop(self) -> None:
        """End the round at once; a stroke the feed had begun is finished, so the router is free."""
        router = self.router
        if router.stroke_owner == FEED_SOURCE:
            router.pointer(FEED_SOURCE, "up", *(router.cursor or (0.0, 0.0)), 0.0)
        self.phase, self.feeder = None, None

    def _enter(self, phase: str, now: float) -> None:
        self.phase, self.phase_started = phase, now
