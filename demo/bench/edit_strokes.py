"""Strokes a person would paint to ask for a scene, derived from the scene itself (numpy only).

Landscapes: bands of the scene's own colours across it (sky high and low, the land, the foreground), and
short strokes over its objects: the sun or moon where a bright blob stands out, the ridge line just above
the horizon, the water below it. Portraits: the background down both sides, and short strokes over the
hair, the face and the clothes. Each stroke's colour is the median of the scene's pixels under its path,
or, for the palette case, the app's palette colour nearest to that (what a visitor would pick).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from demo.bench.skies import contrast, moon_at
from demo.tools.session import Event, Session

BAND_ROWS = (0.1, 0.3)  # sky bands, as fractions of the height; land bands follow the horizon
BAND_WIDTH = 0.06  # brush width, fraction of the image width
DAB_WIDTH = 0.05
SPEED = 1.5  # image widths per second: the pace of a drawn stroke


@dataclass(frozen=True)
class StrokePlan:
    kind: str  # band, sun, ridge, water; background, hair, face, clothes
    points: tuple[tuple[float, float], ...]  # (x, y) in 0..1
    width: float
    color: tuple[int, int, int]


def median_under(scene: np.ndarray, points, width: float) -> tuple[int, int, int]:
    """The median colour of the scene's pixels within the brush's radius of the path."""
    side = scene.shape[0]
    yy, xx = np.mgrid[:side, :side] + 0.5
    covered = np.zeros((side, side), bool)
    radius = 0.5 * width * side
    (x0, y0), (x1, y1) = points[0], points[-1]
    for t in np.linspace(0, 1, 16):
        cx, cy = (x0 + t * (x1 - x0)) * side, (y0 + t * (y1 - y0)) * side
        covered |= (xx - cx) ** 2 + (yy - cy) ** 2 <= radius**2
    return tuple(int(c) for c in np.median(scene[covered], axis=0))


def plan_strokes(scene: np.ndarray, *, horizon: float, water: bool) -> list[StrokePlan]:
    """Bands and object strokes for a [S, S, 3] uint8 scene whose horizon is at ``horizon`` (0..1 from the top)."""
    land = min(0.95, horizon + 0.5 * (1 - horizon))
    paths = [("band", ((0.05, row), (0.95, row)), BAND_WIDTH) for row in (*BAND_ROWS, land)]
    paths.append(("ridge", ((0.25, horizon - 0.04), (0.75, horizon - 0.04)), DAB_WIDTH))
    if water:
        paths.append(("water", ((0.35, horizon + 0.06), (0.65, horizon + 0.06)), DAB_WIDTH))
    moon = moon_at(scene)
    if contrast(scene, moon) >= 0.2:
        y, x = (np.array(moon) + 0.5) / scene.shape[0]
        paths.append(("sun", ((x - 0.02, y), (x + 0.02, y)), DAB_WIDTH))
    return [StrokePlan(kind, points, width, median_under(scene, points, width)) for kind, points, width in paths]


def plan_portrait_strokes(scene: np.ndarray) -> list[StrokePlan]:
    """Background, hair, face and clothes strokes for a [S, S, 3] uint8 portrait, centred as the avatars are
    (a head in the middle, shoulders along the bottom edge)."""
    paths = [("background", ((0.08, 0.1), (0.08, 0.6)), BAND_WIDTH),
             ("background", ((0.92, 0.1), (0.92, 0.6)), BAND_WIDTH),
             ("hair", ((0.4, 0.18), (0.6, 0.18)), DAB_WIDTH),
             ("face", ((0.42, 0.52), (0.58, 0.52)), DAB_WIDTH),
             ("clothes", ((0.3, 0.94), (0.7, 0.94)), BAND_WIDTH)]
    return [StrokePlan(kind, points, width, median_under(scene, points, width)) for kind, points, width in paths]


def nearest_palette(color: tuple[int, int, int], palette) -> tuple[int, int, int]:
    return min(palette, key=lambda p: sum((a - b) ** 2 for a, b in zip(p, color)))


def in_palette(plans: list[StrokePlan], palette) -> list[StrokePlan]:
    """The same strokes, each in the palette colour nearest to the scene's."""
    return [StrokePlan(p.kind, p.points, p.width, nearest_palette(p.color, palette)) for p in plans]


def session_of(plans: list[StrokePlan], *, points_per_stroke: int = 8) -> Session:
    """The strokes as a session a pen would record: down, moves, up, at a drawing pace, 0.3 s apart."""
    events, t = [], 0.0
    for plan in plans:
        (x0, y0), (x1, y1) = plan.points[0], plan.points[-1]
        duration = max(0.05, np.hypot(x1 - x0, y1 - y0) / SPEED)
        for i in range(points_per_stroke):
            f = i / (points_per_stroke - 1)
            x, y = x0 + f * (x1 - x0), y0 + f * (y1 - y0)
            if i == 0:
                events.append(Event(t=t, type="down", tool="color", x=x, y=y, color=plan.color, width=plan.width))
            else:
                events.append(Event(t=t + f * duration, type="move", x=x, y=y))
        t += duration
        events.append(Event(t=t, type="up"))
        t += 0.3
    return Session(meta={"source": "bench edits"}, events=tuple(events))
