"""Stroke geometry: a brush's footprint as a run of capsules (numpy only).

One geometry serves both consumers of a stroke: the solver's raster at model resolution
(``brushes.Canvas.coverage`` draws the capsules with OpenCV) and the GPU overlay at screen
resolution (``app/overlay.py`` draws the same capsules as instanced quads). A capsule is a segment
a -> b with a radius at each end; a == b is a round dot.

Capsules are kept normalised (x, y in 0..1 of the image, radius as a fraction of its side) and
turned into pixels of a given layer by ``to_pixels``.
"""

from __future__ import annotations

import numpy as np

from demo.tools.stroke import Stroke

MIN_PRESSURE_SCALE = 0.2  # a stroke at zero pressure is this fraction of the full width
MIN_RADIUS_PX = 0.5
FIELDS = 6  # a (x, y, r), b (x, y, r)


def pressure_radius(width: float, pressure) -> np.ndarray:
    """Half the pressure-scaled width, normalised to the image side."""
    scale = MIN_PRESSURE_SCALE + (1.0 - MIN_PRESSURE_SCALE) * np.clip(np.asarray(pressure, np.float32), 0.0, 1.0)
    return 0.5 * width * scale


def path(stroke: Stroke) -> np.ndarray:
    """[n, 6] capsules along the stroke: a dot at point 0, then segment i from point i-1 to point i."""
    points = np.asarray(stroke.points, np.float32).reshape(-1, 3)  # [n, (x, y, pressure)]
    ends = np.concatenate([points[:, :2], pressure_radius(stroke.width, points[:, 2])[:, None]], axis=1)  # [n, 3]
    starts = np.concatenate([ends[:1], ends[:-1]])  # [n, 3]
    return np.concatenate([starts, ends], axis=1)


def segment(stroke: Stroke) -> np.ndarray:
    """[1, 6] one capsule from the stroke's first point to its last (the radius of the first point)."""
    (x0, y0, pressure), (x1, y1, _) = stroke.points[0], stroke.points[-1]
    radius = float(pressure_radius(stroke.width, pressure))
    return np.array([[x0, y0, radius, x1, y1, radius]], np.float32)


def dot(x: float, y: float, radius: float) -> np.ndarray:
    """[1, 6] a round dot (normalised radius)."""
    return np.array([[x, y, radius, x, y, radius]], np.float32)


def to_pixels(capsules: np.ndarray, size: int, *, radius_scale: float = 1.0, extra_px: float = 0.0,
              min_px: float = MIN_RADIUS_PX) -> np.ndarray:
    """[n, 6] capsules in pixels of a ``size`` x ``size`` layer.

    A radius becomes ``max(min_px, r * size) * radius_scale + extra_px``, so thin strokes stay visible.
    """
    out = np.array(capsules, np.float32, copy=True).reshape(-1, FIELDS)
    out[:, [0, 1, 3, 4]] *= size
    for column in (2, 5):
        out[:, column] = np.maximum(min_px, out[:, column] * size) * radius_scale + extra_px
    return out
