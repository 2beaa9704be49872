"""The edited image: the current candidate (or a morph frame, or the photo with the edit), the stroke
overlay on top, the projection progress, and the brush cursor."""

from __future__ import annotations

import moderngl
import numpy as np

from demo.app.render.painter import Painter, Rect
from demo.engine.api import EditResult
from demo.gl import Texture

FRAME = (0.25, 0.25, 0.28, 1.0)


class CanvasView:
    def __init__(self, ctx: moderngl.Context):
        self.image = Texture(ctx)
        self.display = Texture(ctx)  # the shown image at display resolution, once the solver settled
        self.morph = Texture(ctx)
        self.morph_frames = 0
        self.has_image = False
        self.has_display = False

    def show_preview(self, image: np.ndarray) -> None:
        """An image to show until the first result ([R, R, 3] uint8): the model's start preview."""
        self.image.update(np.ascontiguousarray(image))
        self.has_image, self.has_display = True, False

    def upload(self, result: EditResult) -> None:
        """New pixels from a result: the shown image (at display resolution when it came so), and the morph
        strip when one came with it (its display-resolution frames replace it when they follow)."""
        if len(result.images):
            self.image.update(np.ascontiguousarray(result.image))
            self.has_image = True
            self.has_display = result.display is not None
            if self.has_display:
                self.display.update(np.ascontiguousarray(result.display))
        frames = result.morph_display if result.morph_display is not None else result.morph  # [N, S, S, 3]
        if frames is not None and len(frames):
            self.morph.update(np.ascontiguousarray(frames.reshape(-1, *frames.shape[2:])))  # [N * S, S, 3]
            self.morph_frames = len(frames)

    def draw(self, painter: Painter, rect: Rect, *, message: str | None, morph_position: float | None,
             photo: tuple[Texture, Rect] | None, overlay: Texture, overlay_opacity: float,
             progress: float | None) -> None:
        """``photo``: (texture, uv of the model's square) of the photo with the edit, shown instead of the
        generated image; a morph frame takes precedence. ``overlay_opacity`` 0 hides the strokes."""
        x, y, w, h = rect
        painter.frame(rect, FRAME)
        opacity = overlay_opacity
        if morph_position is not None and self.morph_frames:
            index = min(self.morph_frames - 1, int(round(morph_position * (self.morph_frames - 1))))
            n = self.morph_frames
            painter.composite(self.morph, overlay, rect, uv=(0, index / n, 1, (index + 1) / n), overlay_opacity=opacity)
        elif photo is not None:
            painter.composite(photo[0], overlay, rect, uv=photo[1], overlay_opacity=opacity)
        elif self.has_image:
            painter.composite(self.display if self.has_display else self.image, overlay, rect, overlay_opacity=opacity)
        else:
            painter.rect(rect, (0.13, 0.13, 0.15, 1.0))
            if opacity > 0:
                painter.image(overlay, rect, tint=(opacity,) * 4, premultiplied=True)
        if progress is not None:
            bar = (x + 16, y + h - 30, w - 32, 12)
            painter.rect(bar, (0, 0, 0, 0.6), radius=6)
            painter.rect((bar[0], bar[1], max(12.0, bar[2] * progress), bar[3]), (0.95, 0.75, 0.3, 1.0), radius=6)
            painter.text("canvas.progress", f"projecting the photo {progress:.0%}", (x + w / 2, y + h - 46),
                         size=20, anchor="center")
        if message:
            painter.text("canvas.message", message, (x + w / 2, y + h / 2), size=24, anchor="center")

    @staticmethod
    def draw_cursor(painter: Painter, position: tuple[float, float], radius: float, *, crosshair: bool) -> None:
        """The brush outline (dark and light rings, readable on any image); a crosshair for gamepads."""
        painter.ring(position, radius + 1.0, (0, 0, 0, 0.7), width=1.5)
        painter.ring(position, radius, (1, 1, 1, 0.9), width=1.5)
        if crosshair:
            x, y = position
            painter.rect((x - 9, y - 1, 18, 2), (1, 1, 1, 0.9))
            painter.rect((x - 1, y - 9, 2, 18), (1, 1, 1, 0.9))
