"""Brushes rasterise strokes into (image, mask) layers at any resolution (numpy/OpenCV only).

One small interface, as in iGAN: each brush paints one finished or in-progress ``Stroke`` into
the layers of a ``Canvas``. Coordinates are normalised (0..1, origin top-left), so the same
strokes rasterise at model resolution for the solver and at screen resolution for the overlay.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SUPERSAMPLE = 4  # Masks are drawn at 4x and area-averaged, so thin strokes give soft coverage.
MIN_PRESSURE_SCALE = 0.2
SHIFT = 4  # cv2 fixed-point bits for sub-pixel drawing.


@dataclass(frozen=True, kw_only=True)
class Stroke:
    tool: str
    color: tuple[int, int, int]
    width: float  # fraction of image width at full pressure
    points: tuple[tuple[float, float, float], ...]  # (x, y, pressure), normalised

    def radius_px(self, pressure: float, size: int) -> float:
        """Pressure scales width: half the pressure-scaled width, in pixels of a ``size`` canvas."""
        scale = MIN_PRESSURE_SCALE + (1.0 - MIN_PRESSURE_SCALE) * float(np.clip(pressure, 0.0, 1.0))
        return max(0.5, 0.5 * self.width * size * scale)


class Canvas:
    """The layers every brush paints into, at ``size`` x ``size``."""

    def __init__(self, size: int):
        self.size = size
        self.color = np.zeros((size, size, 3), np.float32)
        self.color_mask = np.zeros((size, size), np.float32)
        self.sketch = np.zeros((size, size), np.float32)
        self.sketch_mask = np.zeros((size, size), np.float32)
        self.warp = np.zeros((size, size, 2), np.float32)
        self.warp_mask = np.zeros((size, size), np.float32)

    def coverage(self, stroke: Stroke, *, radius_scale: float = 1.0, extra_px: float = 0.0) -> np.ndarray:
        """Soft coverage [size, size] of the stroke's pressure-scaled path, supersampled."""
        big = self.size * SUPERSAMPLE
        layer = np.zeros((big, big), np.uint8)
        pts = [(_fixed(x * big), _fixed(y * big), p) for x, y, p in stroke.points]
        for i, (px, py, p) in enumerate(pts):
            radius = (stroke.radius_px(p, self.size) * radius_scale + extra_px) * SUPERSAMPLE
            # Round caps at each point, then a thick segment to the previous point.
            cv2.circle(layer, (px, py), _fixed(radius), 255, -1, cv2.LINE_AA, SHIFT)
            if i:
                qx, qy, _ = pts[i - 1]
                thickness = max(1, int(round(2 * radius)))
                cv2.line(layer, (qx, qy), (px, py), 255, thickness, cv2.LINE_AA, SHIFT)
        return cv2.resize(layer, (self.size, self.size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _fixed(value: float) -> int:
    return int(round(value * (1 << SHIFT)))


def _cover(values: np.ndarray, mask: np.ndarray, value: np.ndarray, cover: np.ndarray) -> None:
    """Lay ``value`` over ``values`` [S, S, C] with soft ``cover`` [S, S], in place.

    Values stay un-premultiplied: a soft edge weighs the error through the mask but never
    darkens the target itself.
    """
    new_mask = np.maximum(mask, cover)
    weight = np.divide(cover, new_mask, out=np.zeros_like(cover), where=new_mask > 0)[..., None]
    values[:] = values * (1 - weight) + value * weight
    mask[:] = new_mask


class ColorBrush:
    """Paints the stroke color; later strokes cover earlier ones."""

    def paint(self, canvas: Canvas, stroke: Stroke) -> None:
        rgb = np.asarray(stroke.color, np.float32) / 255.0
        _cover(canvas.color, canvas.color_mask, rgb, canvas.coverage(stroke))


class SketchBrush:
    """Draws an edge line; the sketch term applies in a band around it."""

    def __init__(self, *, band_fraction: float = 1.0 / 16):
        self.band_fraction = band_fraction

    def paint(self, canvas: Canvas, stroke: Stroke) -> None:
        line = canvas.coverage(stroke, radius_scale=0.5)
        band = canvas.coverage(stroke, extra_px=self.band_fraction * canvas.size)
        canvas.sketch[:] = np.maximum(canvas.sketch, line)
        canvas.sketch_mask[:] = np.maximum(canvas.sketch_mask, band)


class WarpBrush:
    """A drag from the first to the last point: the content under the source is asked for at the target."""

    def paint(self, canvas: Canvas, stroke: Stroke) -> None:
        (sx, sy, pressure), (tx, ty, _) = stroke.points[0], stroke.points[-1]
        target = Stroke(tool="warp", color=stroke.color, width=stroke.width, points=((tx, ty, pressure),))
        offset = np.array([sx - tx, sy - ty], np.float32)
        _cover(canvas.warp, canvas.warp_mask, offset, canvas.coverage(target))


class EraseBrush:
    """Removes every constraint under the brush."""

    def paint(self, canvas: Canvas, stroke: Stroke) -> None:
        keep = 1.0 - canvas.coverage(stroke)
        for mask in (canvas.color_mask, canvas.sketch_mask, canvas.warp_mask):
            mask *= keep


BRUSHES = {"color": ColorBrush(), "sketch": SketchBrush(), "warp": WarpBrush(), "erase": EraseBrush()}


def rasterise(strokes, size: int) -> Canvas:
    """Paint strokes in order into a fresh canvas."""
    canvas = Canvas(size)
    for stroke in strokes:
        if stroke.points:
            BRUSHES[stroke.tool].paint(canvas, stroke)
    return canvas
