"""Moved to ``demo.tools.raster`` (the engine's worker rasterises now, not the window).

``IncrementalConstraints`` stays for callers of the old interface (tests/test_app.py); new code
uses ``demo.tools.raster.IncrementalRaster`` with the strokes themselves.
"""

from __future__ import annotations

from demo.tools.constraints import Constraints
from demo.tools.edit_state import EditState
from demo.tools.raster import IncrementalRaster


class IncrementalConstraints:
    def __init__(self) -> None:
        self._raster = IncrementalRaster()

    def constraints(self, state: EditState, resolution: int) -> Constraints:
        return self._raster.constraints(state.visible_strokes, resolution, version=state.version)
