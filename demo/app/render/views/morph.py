"""Play button and slider for the morph from the anchor z0 to the current candidate."""

from __future__ import annotations

from demo.app.render.painter import Painter, Rect

TRACK = (0.2, 0.2, 0.23, 1.0)
KNOB = (0.95, 0.62, 0.2, 1.0)


class MorphBarView:
    def draw(self, painter: Painter, button: Rect, track: Rect, *, playing: bool, position: float | None,
             available: bool) -> None:
        x, y, w, h = button
        painter.rect(button, TRACK, radius=5)
        painter.text("morph.button", "||" if playing else ">", (x + w / 2, y + h / 2), size=22, anchor="center",
                     color=(1, 1, 1, 1) if available else (1, 1, 1, 0.35))
        tx, ty, tw, th = track
        painter.rect((tx, ty + th / 2 - 3, tw, 6), TRACK, radius=3)
        value = 1.0 if position is None else position
        painter.rect((tx + value * (tw - 14), ty + 4, 14, th - 8), KNOB if available else (0.4, 0.4, 0.4, 1), radius=4)
        painter.text("morph.label", "anchor" if available else "morph: after the solver settles", (tx + 4, ty + 6), size=16,
                     color=(1, 1, 1, 0.5))


def slider_value(track: Rect, x: float) -> float:
    tx, _, tw, _ = track
    return min(1.0, max(0.0, (x - tx - 7) / max(1.0, tw - 14)))
