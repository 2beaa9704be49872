"""What an unattended exhibition app does when (pure: no pygame, no GL; the clock is passed in).

``IdlePolicy`` turns "input happened at t" and "it is now t" into the kiosk's decisions:

- ``reset``: the visitor left an edit and nobody touched anything for ``reset_seconds``: save the
  picture if it has strokes, then clear it (a fresh start);
- ``attract``: nobody touched anything for ``idle_seconds``: (save and clear an edit left, then)
  start the attract loop;
- ``wake``: the first touch, click or button during the attract loop: a fresh start for the visitor.

``ChordWatch`` sees the operator's exit chord held long enough; ``CursorHider`` hides an idle cursor.
"""

from __future__ import annotations

from demo.app.kiosk.config import Chord, KioskConfig

RESET, ATTRACT, WAKE = "reset", "attract", "wake"


class IdlePolicy:
    def __init__(self, config: KioskConfig, *, now: float):
        self.config = config
        self.last_input = now
        self.attracting = False
        self.touched = False  # the visitor did something since the last fresh start

    def input(self, now: float, *, waking: bool) -> str | None:
        """Input at ``now``; ``waking`` for a touch, click or button (not a mere move). WAKE, or None."""
        if self.attracting:
            if not waking:
                return None  # a nudged mouse or a drifting stick does not end the attract loop
            self.attracting = False
            self.last_input = now
            self.touched = False
            return WAKE
        self.last_input = now
        self.touched = True
        return None

    def due(self, now: float) -> str | None:
        """RESET, ATTRACT or None, once per idle period."""
        if self.attracting:
            return None
        idle = now - self.last_input
        if idle >= self.config.idle_seconds:
            self.attracting = True
            self.touched = False
            return ATTRACT
        if self.touched and idle >= self.config.reset_seconds:
            self.touched = False
            return RESET
        return None


class ChordWatch:
    """Keys (normalised names: ctrl, alt, shift, or the key's own name) held; ``held`` once the chord
    has been held without a break for ``seconds``."""

    def __init__(self, chord: Chord, *, seconds: float):
        self.chord = chord
        self.seconds = seconds
        self.pressed: set[str] = set()
        self.since: float | None = None  # when the whole chord went down

    def down(self, name: str, now: float) -> None:
        self.pressed.add(name)
        if self.since is None and self._complete():
            self.since = now

    def up(self, name: str) -> None:
        self.pressed.discard(name)
        if not self._complete():
            self.since = None

    def clear(self) -> None:
        """Forget held keys (the window lost the keyboard focus: their key-ups will not come)."""
        self.pressed.clear()
        self.since = None

    def _complete(self) -> bool:
        return self.chord.key in self.pressed and self.chord.modifiers <= self.pressed

    def held(self, now: float) -> bool:
        return self.since is not None and now - self.since >= self.seconds

    def progress(self, now: float) -> float:
        """0..1 of the hold (0 when the chord is not down), for an on-screen hint to the operator."""
        return 0.0 if self.since is None else min(1.0, (now - self.since) / self.seconds)


class CursorHider:
    """The mouse cursor shows while it moves and hides ``seconds`` after it stopped."""

    def __init__(self, *, seconds: float, now: float):
        self.seconds = seconds
        self.moved_at = now - seconds  # hidden from the start

    def moved(self, now: float) -> None:
        self.moved_at = now

    def visible(self, now: float) -> bool:
        return now - self.moved_at < self.seconds
