"""The top-k candidates, best first; the one shown is outlined. Click (or D-pad) to show another.

While the solver streams results (one per step, 20-40 a second on a CPU) the canvas shows each one,
but the thumbnails follow at most every ``REFRESH_SECONDS``: redrawing the strip with every result
cost about a third of a busy frame's rendering. A settled result, a new candidate count or another
shown candidate refresh them at once.
"""

from __future__ import annotations

import moderngl
import numpy as np

from demo.app.render.painter import Painter, Rect
from demo.engine.api import EditResult
from demo.gl import Texture

SELECTED = (1.0, 0.8, 0.3, 1.0)
REFRESH_SECONDS = 0.25


class ThumbnailsView:
    def __init__(self, ctx: moderngl.Context):
        self.atlas = Texture(ctx)  # the k images side by side, one upload per result
        self.count = 0
        self.current = 0
        self._pending: EditResult | None = None
        self._shown_at = float("-inf")

    def upload(self, result: EditResult, *, now: float) -> bool:
        """Take a result's candidates: shown now if due or urgent, else at the next ``refresh``. True if shown."""
        if result.projecting or not len(result.images):
            return False
        self._pending = result
        return self.refresh(now)

    def refresh(self, now: float) -> bool:
        """Show the pending candidates if they are due; True if the thumbnails changed."""
        result = self._pending
        if result is None:
            return False
        urgent = result.steps_left == 0 or len(result.images) != self.count or int(result.current) != self.current
        if not urgent and now - self._shown_at < REFRESH_SECONDS:
            return False
        self._pending, self._shown_at = None, now
        images = result.images  # [k, R, R, 3]
        k, size = len(images), images.shape[1]
        self.atlas.update(np.ascontiguousarray(images.transpose(1, 0, 2, 3).reshape(size, k * size, 3)))
        self.count = k
        self.current = int(result.current)
        return True

    def draw(self, painter: Painter, rects: tuple[Rect, ...]) -> None:
        for i, rect in enumerate(rects):
            x, y, w, h = rect
            if i < self.count:
                painter.image(self.atlas, rect, uv=(i / self.count, 0, (i + 1) / self.count, 1))
                if i == self.current:
                    painter.rect((x - 2, y - 2, w + 4, h + 4), (0, 0, 0, 0), radius=3, border=3, border_color=SELECTED)
            else:
                painter.rect(rect, (0.15, 0.15, 0.17, 1.0), radius=3)
            painter.text(f"thumb.{i}", str(i + 1), (x + 4, y + 2), size=16, color=(1, 1, 1, 0.8))
