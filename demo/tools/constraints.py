"""The constraints the user's strokes put on the image, at model resolution (numpy only).

This is the one data type that crosses from tools to the engine. Arrays are read-only so a
request can be shared between threads and processes without copies going stale.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False, kw_only=True)
class Constraints:
    """Rasterised strokes. Change is detected by ``version``, never by comparing arrays."""

    version: int
    color: np.ndarray  # [R, R, 3] float32 in 0..1, the stroke colors
    color_mask: np.ndarray  # [R, R] float32 in 0..1, soft coverage of color strokes
    sketch: np.ndarray  # [R, R] float32 in 0..1, edge raster (1 = edge)
    sketch_mask: np.ndarray  # [R, R] float32 in 0..1, where the sketch term applies
    warp: np.ndarray  # [R, R, 2] float32, offset to the source of each target pixel, in fractions of the image
    warp_mask: np.ndarray  # [R, R] float32 in 0..1, warp targets

    @property
    def resolution(self) -> int:
        return int(self.color.shape[0])

    @property
    def has_color(self) -> bool:
        return bool(self.color_mask.max(initial=0) > 0)

    @property
    def has_sketch(self) -> bool:
        return bool(self.sketch_mask.max(initial=0) > 0)

    @property
    def has_warp(self) -> bool:
        return bool(self.warp_mask.max(initial=0) > 0)

    @property
    def is_empty(self) -> bool:
        return not (self.has_color or self.has_sketch or self.has_warp)

    @classmethod
    def empty(cls, resolution: int, *, version: int = 0) -> "Constraints":
        r = resolution
        return cls.from_arrays(
            version=version,
            color=np.zeros((r, r, 3), np.float32), color_mask=np.zeros((r, r), np.float32),
            sketch=np.zeros((r, r), np.float32), sketch_mask=np.zeros((r, r), np.float32),
            warp=np.zeros((r, r, 2), np.float32), warp_mask=np.zeros((r, r), np.float32),
        )

    @classmethod
    def from_arrays(cls, *, version: int, **arrays: np.ndarray) -> "Constraints":
        frozen = {}
        for name, array in arrays.items():
            array = np.ascontiguousarray(array, dtype=np.float32)
            array.setflags(write=False)
            frozen[name] = array
        return cls(version=version, **frozen)
