"""Where the edited image sits on screen: window pixels (origin top-left) <-> image coordinates (0..1)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Viewport:
    x: float
    y: float
    width: float
    height: float

    def contains(self, px: float, py: float) -> bool:
        return self.x <= px < self.x + self.width and self.y <= py < self.y + self.height

    def to_image(self, px: float, py: float) -> tuple[float, float]:
        """Image coordinates of a window pixel position, clamped to 0..1."""
        u = (px - self.x) / max(1e-9, self.width)
        v = (py - self.y) / max(1e-9, self.height)
        return min(1.0, max(0.0, u)), min(1.0, max(0.0, v))

    def to_window(self, u: float, v: float) -> tuple[float, float]:
        return self.x + u * self.width, self.y + v * self.height
