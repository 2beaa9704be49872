"""Frame rate, solver speed and input latency, over the top-left of the canvas."""

from __future__ import annotations

from demo.app.painter import Painter


class HudView:
    def draw(self, painter: Painter, position: tuple[float, float], lines: list[str]) -> None:
        x, y = position
        width = max((painter.text_size(line, size=18)[0] for line in lines), default=0)
        painter.rect((x, y, width + 12, 18 * len(lines) + 8), (0, 0, 0, 0.55), radius=4)
        for i, line in enumerate(lines):
            painter.text(f"hud.{i}", line, (x + 6, y + 5 + 18 * i), size=18, color=(0.9, 0.95, 0.9, 1))
