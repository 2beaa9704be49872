"""One pointer's stroke as session events: down, moves (thinned), up. Shared by mouse, pen and gamepad."""

from __future__ import annotations

import math

from demo.input.actions import Brush
from demo.tools.session import Event


class PointerStroke:
    """Builds the down/move/up events of one stroke in image coordinates (0..1, clamped).

    Moves closer than ``min_step`` (fraction of the image) to the last emitted point, with a pressure
    change under ``min_pressure_step``, are dropped: they change nothing visible and each point costs
    rasterisation time.
    """

    def __init__(self, *, min_step: float = 0.004, min_pressure_step: float = 0.05):
        self.min_step = min_step
        self.min_pressure_step = min_pressure_step
        self.active = False
        self._last: tuple[float, float, float] | None = None

    def down(self, t: float, u: float, v: float, pressure: float, brush: Brush) -> Event:
        self.active = True
        u, v, pressure = _clamp(u), _clamp(v), _clamp(pressure)
        self._last = (u, v, pressure)
        return Event(t=t, type="down", tool=brush.tool, x=u, y=v, pressure=pressure, color=brush.color, width=brush.width)

    def move(self, t: float, u: float, v: float, pressure: float) -> Event | None:
        if not self.active:
            return None
        u, v, pressure = _clamp(u), _clamp(v), _clamp(pressure)
        lu, lv, lp = self._last
        if math.hypot(u - lu, v - lv) < self.min_step and abs(pressure - lp) < self.min_pressure_step:
            return None
        self._last = (u, v, pressure)
        return Event(t=t, type="move", x=u, y=v, pressure=pressure)

    def up(self, t: float) -> Event | None:
        if not self.active:
            return None
        self.active = False
        self._last = None
        return Event(t=t, type="up")


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, float(value)))
