"""A stroke: the points of one pen-down .. pen-up with the tool it was drawn with (numpy-free data)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class Stroke:
    tool: str  # a brush name from demo.tools.brushes.BRUSHES
    color: tuple[int, int, int]
    width: float  # fraction of image width at full pressure
    points: tuple[tuple[float, float, float], ...]  # (x, y, pressure), normalised, origin top-left
