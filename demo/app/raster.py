"""The solver's constraints at model resolution, rasterised incrementally (numpy/OpenCV only).

``EditState.constraints`` re-rasterises every stroke on each change, which grows with the session;
brushes paint strokes in order onto one canvas, so finished strokes are painted once into a cached
canvas and each change of the stroke in progress only paints that stroke onto a copy. The result is
the same arrays as ``EditState.constraints`` (tests/test_app.py checks equality).
"""

from __future__ import annotations

import copy

from demo.tools.brushes import BRUSHES, Canvas, Stroke, rasterise
from demo.tools.constraints import Constraints
from demo.tools.edit_state import EditState

LAYERS = ("color", "color_mask", "sketch", "sketch_mask", "warp", "warp_mask")


class IncrementalConstraints:
    def __init__(self) -> None:
        self._canvas: Canvas | None = None
        self._strokes: list[Stroke] = []
        self._cached: tuple[int, int, Constraints] | None = None  # (resolution, version, constraints)

    def constraints(self, state: EditState, resolution: int) -> Constraints:
        if self._cached is not None and self._cached[:2] == (resolution, state.version):
            return self._cached[2]
        strokes = state.strokes
        prefix = len(self._strokes) <= len(strokes) and all(a is b for a, b in zip(self._strokes, strokes))
        if self._canvas is None or self._canvas.size != resolution or not prefix:
            self._canvas = rasterise(strokes, resolution)
        else:
            for stroke in strokes[len(self._strokes):]:
                _paint(self._canvas, stroke)
        self._strokes = list(strokes)
        # Constraints freezes its arrays, so it gets a copy, never the cached canvas itself.
        canvas = copy.deepcopy(self._canvas)
        if state.active is not None:
            _paint(canvas, state.active)
        constraints = Constraints.from_arrays(version=state.version, **{name: getattr(canvas, name) for name in LAYERS})
        self._cached = (resolution, state.version, constraints)
        return constraints


def _paint(canvas: Canvas, stroke: Stroke) -> None:
    if stroke.points:
        BRUSHES[stroke.tool].paint(canvas, stroke)
