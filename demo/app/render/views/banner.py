"""Engine errors, shown over the top of the window while the app keeps running."""

from __future__ import annotations

from demo.app.render.painter import Painter

MAX_LINES = 4


def summarise(error: str, *, width: int = 110) -> list[str]:
    """The message (first line) and the innermost traceback frame, cut to ``width`` characters."""
    lines = [line for line in error.strip().splitlines() if line.strip()]
    head = lines[:1]
    frames = [line.strip() for line in lines if line.strip().startswith("File ")]
    tail = frames[-1:] if frames else lines[1:2]
    out = []
    for line in head + tail:
        while line and len(out) < MAX_LINES:
            out.append(line[:width])
            line = line[width:]
    return out


class BannerView:
    def draw(self, painter: Painter, window_width: int, lines: list[str], *, kind: str = "error") -> None:
        height = 10 + 20 * len(lines)
        color = (0.6, 0.1, 0.1, 0.92) if kind == "error" else (0.15, 0.35, 0.2, 0.92)
        painter.rect((0, 0, window_width, height), color)
        for i, line in enumerate(lines):
            painter.text(f"banner.{kind}.{i}", line, (10, 6 + 20 * i), size=20, color=(1, 1, 1, 1))
