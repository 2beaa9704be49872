"""The z0 -> current morph: play, pause, seek and ping-pong (pure; no pygame, no GL)."""

from __future__ import annotations


class MorphPlayer:
    """``position`` is None when the morph is not shown, else 0 (the anchor) .. 1 (the current image)."""

    def __init__(self, *, seconds: float = 2.0):
        self.seconds = seconds  # one way, anchor -> current
        self.position: float | None = None
        self.direction = 1.0
        self.playing = False

    def toggle(self, *, available: bool) -> None:
        """Play or pause; nothing to play without frames."""
        self.playing = not self.playing and available
        if self.playing and self.position is None:
            self.position, self.direction = 0.0, 1.0

    def seek(self, value: float | None, *, available: bool) -> None:
        self.playing = False
        self.position = value if available else None

    def leave(self) -> None:
        self.position, self.playing = None, False

    def advance(self, dt: float) -> bool:
        """Move a playing morph on by ``dt`` seconds, bouncing at the ends. True if it moved."""
        if not self.playing:
            return False
        position = (self.position or 0.0) + self.direction * dt / self.seconds
        if not 0.0 <= position <= 1.0:
            self.direction = -self.direction
        self.position = min(1.0, max(0.0, position))
        return True
