"""The brush registry: every tool the editor offers, declared once (numpy/OpenCV only).

As in iGAN, a brush paints one finished or in-progress ``Stroke`` into the (image, mask) layers of
a ``Canvas`` at model resolution. Each brush also declares what the rest of the program needs, so
that tool lists, labels, keyboard shortcuts, the session format, the side panel and the overlay
all derive from this one table:

- ``name`` (as recorded in sessions), ``label`` (panel button), ``shortcut`` (a pygame key name),
  ``help`` (the help overlay), ``layers`` (the constraint layers it writes);
- ``paint(canvas, stroke)``: the solver's raster;
- ``overlay(stroke, size)``: what the GPU overlay draws, as capsules of ``demo.tools.geometry``;
- ``grows``: a longer stroke only adds capsules at its end (the overlay then draws just those);
- ``uses_color``: the stroke's colour matters (the panel previews the brush in it).

Both ``paint`` and ``overlay`` take their shape from the same footprint in ``demo.tools.geometry``.
A new brush that reuses existing layers is one class here, added to ``BRUSHES``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from demo.tools import geometry
from demo.tools.geometry import MIN_PRESSURE_SCALE  # noqa: F401 - re-exported
from demo.tools.stroke import Stroke

SUPERSAMPLE = 4  # Masks are drawn at 4x and area-averaged, so thin strokes give soft coverage.
SHIFT = 4  # cv2 fixed-point bits for sub-pixel drawing.
LAYERS = ("color", "color_mask", "sketch", "sketch_mask", "warp", "warp_mask")

SKETCH_RGBA = (0.06, 0.06, 0.07, 1.0)
WARP_TARGET_RGBA = (0.2, 0.85, 1.0, 0.45)
WARP_LINE_RGBA = (1.0, 1.0, 1.0, 0.9)


class CoverageMemo:
    """The supersampled coverage drawn last, per (radius scale, extra pixels): when the next capsules
    extend the last ones (a stroke that grew), only the new capsules are drawn on it. Drawing the same
    capsules in the same order onto the same layer gives the same pixels, so this changes no result,
    only the cost of a growing stroke (from all of its capsules to its new ones)."""

    def __init__(self) -> None:
        self._last: dict[tuple, tuple[np.ndarray, np.ndarray]] = {}

    def layer(self, key: tuple, pixels: np.ndarray, big: int) -> np.ndarray:
        """The uint8 layer [big, big] with every capsule of ``pixels`` [n, 6] drawn (kept for the next call)."""
        last = self._last.get(key)
        done = 0
        if last is not None and last[1].shape == (big, big) and len(pixels) >= len(last[0]) \
                and np.array_equal(pixels[: len(last[0])], last[0]):
            done, layer = len(last[0]), last[1]
        else:
            layer = np.zeros((big, big), np.uint8)
        _draw_capsules(layer, pixels[done:])
        self._last[key] = (pixels.copy(), layer)
        return layer


class Canvas:
    """The layers every brush paints into, at ``size`` x ``size``. ``memo`` (shared by copies) makes a
    growing stroke's coverage cost only its new capsules."""

    def __init__(self, size: int, *, memo: CoverageMemo | None = None):
        self.size = size
        self.memo = memo
        self.color = np.zeros((size, size, 3), np.float32)
        self.color_mask = np.zeros((size, size), np.float32)
        self.sketch = np.zeros((size, size), np.float32)
        self.sketch_mask = np.zeros((size, size), np.float32)
        self.warp = np.zeros((size, size, 2), np.float32)
        self.warp_mask = np.zeros((size, size), np.float32)

    def copy(self) -> "Canvas":
        clone = Canvas.__new__(Canvas)
        clone.size = self.size
        clone.memo = self.memo
        for name in LAYERS:
            setattr(clone, name, getattr(self, name).copy())
        return clone

    def coverage(self, capsules: np.ndarray, *, radius_scale: float = 1.0, extra_px: float = 0.0) -> np.ndarray:
        """Soft coverage [size, size] of normalised capsules [n, 6], supersampled."""
        big = self.size * SUPERSAMPLE
        pixels = geometry.to_pixels(capsules, self.size, radius_scale=radius_scale, extra_px=extra_px) * SUPERSAMPLE
        if self.memo is not None:
            layer = self.memo.layer((radius_scale, extra_px), pixels, big)
        else:
            layer = np.zeros((big, big), np.uint8)
            _draw_capsules(layer, pixels)
        return cv2.resize(layer, (self.size, self.size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


def _draw_capsules(layer: np.ndarray, pixels: np.ndarray) -> None:
    """Capsules [n, 6] in layer pixels onto ``layer`` (uint8), in order."""
    for ax, ay, _, bx, by, radius in pixels:
        # A round cap at the end, then a thick segment from the start.
        end = (_fixed(bx), _fixed(by))
        cv2.circle(layer, end, _fixed(radius), 255, -1, cv2.LINE_AA, SHIFT)
        if (ax, ay) != (bx, by):
            cv2.line(layer, (_fixed(ax), _fixed(ay)), end, 255, max(1, int(round(2 * radius))), cv2.LINE_AA, SHIFT)


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


@dataclass(frozen=True)
class OverlayPart:
    """Capsules [n, 6] in overlay pixels, drawn in one colour (straight RGBA); ``erase`` removes instead."""

    capsules: np.ndarray
    rgba: tuple[float, float, float, float]
    erase: bool = False


def _stroke_rgba(stroke: Stroke) -> tuple[float, float, float, float]:
    return (*(float(c) / 255.0 for c in stroke.color), 1.0)


class ColorBrush:
    """Paints the stroke color; later strokes cover earlier ones."""

    name, label, shortcut, layers, grows, uses_color = "color", "Color", "c", ("color",), True, True
    help = "color brush: paint the colors you want"

    def footprint(self, stroke: Stroke) -> np.ndarray:
        return geometry.path(stroke)

    def paint(self, canvas: Canvas, stroke: Stroke) -> None:
        rgb = np.asarray(stroke.color, np.float32) / 255.0
        _cover(canvas.color, canvas.color_mask, rgb, canvas.coverage(self.footprint(stroke)))

    def overlay(self, stroke: Stroke, size: int) -> list[OverlayPart]:
        return [OverlayPart(geometry.to_pixels(self.footprint(stroke), size), _stroke_rgba(stroke))]


class LineBrush(ColorBrush):
    """A straight line of color from where the pen went down to where it is (for horizons, shores, ridges)."""

    name, label, shortcut, grows = "line", "Line", "l", False
    help = "line: a straight stroke of color (horizons, shores)"

    def footprint(self, stroke: Stroke) -> np.ndarray:
        return geometry.segment(stroke)


class SketchBrush:
    """Draws an edge line; the sketch term applies in a band around it."""

    name, label, shortcut, layers, grows, uses_color = "sketch", "Sketch", "s", ("sketch",), True, False
    help = "sketch brush: draw edges"

    def __init__(self, *, band_fraction: float = 1.0 / 16):
        self.band_fraction = band_fraction

    def paint(self, canvas: Canvas, stroke: Stroke) -> None:
        capsules = geometry.path(stroke)
        line = canvas.coverage(capsules, radius_scale=0.5)
        band = canvas.coverage(capsules, extra_px=self.band_fraction * canvas.size)
        canvas.sketch[:] = np.maximum(canvas.sketch, line)
        canvas.sketch_mask[:] = np.maximum(canvas.sketch_mask, band)

    def overlay(self, stroke: Stroke, size: int) -> list[OverlayPart]:
        return [OverlayPart(geometry.to_pixels(geometry.path(stroke), size, radius_scale=0.5, min_px=1.5), SKETCH_RGBA)]


class WarpBrush:
    """A drag from the first to the last point: the content under the source is asked for at the target."""

    name, label, shortcut, layers, grows, uses_color = "warp", "Warp", "w", ("warp",), False, False
    help = "warp: drag content from here to there"

    def _target(self, stroke: Stroke) -> np.ndarray:
        (_, _, pressure), (tx, ty, _) = stroke.points[0], stroke.points[-1]
        return geometry.dot(tx, ty, float(geometry.pressure_radius(stroke.width, pressure)))

    def paint(self, canvas: Canvas, stroke: Stroke) -> None:
        (sx, sy, _), (tx, ty, _) = stroke.points[0], stroke.points[-1]
        offset = np.array([sx - tx, sy - ty], np.float32)
        _cover(canvas.warp, canvas.warp_mask, offset, canvas.coverage(self._target(stroke)))

    def overlay(self, stroke: Stroke, size: int) -> list[OverlayPart]:
        (sx, sy, _), (tx, ty, _) = stroke.points[0], stroke.points[-1]
        line = np.array([[sx, sy, 0.0, tx, ty, 0.0]], np.float32)
        return [
            OverlayPart(geometry.to_pixels(self._target(stroke), size), WARP_TARGET_RGBA),
            OverlayPart(geometry.to_pixels(line, size, min_px=1.5), WARP_LINE_RGBA),
            OverlayPart(geometry.to_pixels(geometry.dot(sx, sy, 0.0), size, min_px=3.0), WARP_LINE_RGBA),
        ]


class EraseBrush:
    """Removes every constraint under the brush."""

    name, label, shortcut, layers, grows, uses_color = "erase", "Eraser", "e", ("color", "sketch", "warp"), True, False
    help = "eraser: remove constraints"

    def paint(self, canvas: Canvas, stroke: Stroke) -> None:
        keep = 1.0 - canvas.coverage(geometry.path(stroke))
        for layer in self.layers:
            getattr(canvas, f"{layer}_mask")[:] *= keep

    def overlay(self, stroke: Stroke, size: int) -> list[OverlayPart]:
        return [OverlayPart(geometry.to_pixels(geometry.path(stroke), size), (0.0, 0.0, 0.0, 1.0), erase=True)]


# The registry, in the order tools are offered.
BRUSHES = {brush.name: brush for brush in (ColorBrush(), SketchBrush(), WarpBrush(), LineBrush(), EraseBrush())}
TOOL_NAMES = tuple(BRUSHES)


def paint(canvas: Canvas, stroke: Stroke) -> None:
    """Paint one stroke with its brush (nothing for a stroke without points)."""
    if stroke.points:
        BRUSHES[stroke.tool].paint(canvas, stroke)


def rasterise(strokes, size: int) -> Canvas:
    """Paint strokes in order into a fresh canvas."""
    canvas = Canvas(size)
    for stroke in strokes:
        paint(canvas, stroke)
    return canvas
