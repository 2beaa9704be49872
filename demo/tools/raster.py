"""The solver's constraints at model resolution, rasterised incrementally (numpy/OpenCV only).

Brushes paint strokes in order onto one canvas, so every stroke but the last is painted once into a
cached canvas, and each new version only paints the strokes added since, then the last stroke (the
one in progress, while a stroke is drawn) onto a copy; its coverage is kept (``CoverageMemo``), so a
growing stroke costs only its new capsules. Strokes are compared by value, not identity:
the engine receives them pickled from the window, so no object survives from one request to the next.
The arrays equal a full ``brushes.rasterise`` of the same strokes (tests/test_worker.py checks it).
Anything but an extension of the cached strokes (an undo, a reset) starts the cache over.
"""

from __future__ import annotations

from typing import Sequence

from demo.tools.brushes import LAYERS, Canvas, CoverageMemo, paint
from demo.tools.constraints import Constraints
from demo.tools.stroke import Stroke


class IncrementalRaster:
    def __init__(self) -> None:
        self._canvas: Canvas | None = None  # every stroke in ``_painted``, in order
        self._painted: list[Stroke] = []
        self._cached: tuple[int, int, Constraints] | None = None  # (resolution, version, constraints)
        self._memo = CoverageMemo()

    def constraints(self, strokes: Sequence[Stroke], resolution: int, *, version: int) -> Constraints:
        """``strokes`` in painting order (the one in progress last) rasterised at ``resolution``."""
        if self._cached is not None and self._cached[:2] == (resolution, version):
            return self._cached[2]
        settled = list(strokes[:-1])
        painted = self._painted
        extends = len(painted) <= len(settled) and settled[: len(painted)] == painted
        if self._canvas is None or self._canvas.size != resolution or not extends:
            self._canvas, painted = Canvas(resolution, memo=self._memo), []
        for stroke in settled[len(painted):]:
            paint(self._canvas, stroke)
        self._painted = settled
        # Constraints freezes its arrays, so it gets a copy, never the cached canvas itself.
        canvas = self._canvas.copy()
        if strokes:
            paint(canvas, strokes[-1])
        constraints = Constraints.from_arrays(version=version, **{name: getattr(canvas, name) for name in LAYERS})
        self._cached = (resolution, version, constraints)
        return constraints

