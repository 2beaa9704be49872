"""The top-k candidates, best first; the one shown is outlined. Click (or D-pad) to show another."""

from __future__ import annotations

import moderngl
import numpy as np

from demo.app.painter import Painter, Rect
from demo.engine.api import EditResult
from demo.gl import Texture

SELECTED = (1.0, 0.8, 0.3, 1.0)


class ThumbnailsView:
    def __init__(self, ctx: moderngl.Context):
        self.atlas = Texture(ctx)  # the k images side by side, one upload per result
        self.count = 0
        self.current = 0

    def upload(self, result: EditResult) -> None:
        images = result.images  # [k, R, R, 3]
        if result.projecting or not len(images):
            return
        k, size = len(images), images.shape[1]
        self.atlas.update(np.ascontiguousarray(images.transpose(1, 0, 2, 3).reshape(size, k * size, 3)))
        self.count = k
        self.current = int(result.current)

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
