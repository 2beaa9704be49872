"""Where the user asked for a change, and of which kind, from their strokes' layers at model resolution (numpy only).

Takes ``demo.tools.constraints.Constraints`` or a ``demo.tools.brushes.Canvas`` (anything with the layers
``color_mask``, ``sketch_mask``, ``warp`` and ``warp_mask`` at one square resolution). Every stroke asks for a
change under it; only sketch and warp strokes ask for geometry (a color stroke recolours and moves nothing).
A warp asks at its target and at its source, so both count. Pass the result to
``TransferEstimator(..., region=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, kw_only=True)
class EditRegion:
    """Soft coverage [R, R] float32 in [0, 1] of the strokes: ``change`` (all of them), ``motion`` (sketch and warp);
    and the colour strokes apart: their coverage ``paint`` [R, R] and colour ``colour`` [R, R, 3] in 0..1."""

    change: np.ndarray
    motion: np.ndarray
    paint: np.ndarray
    colour: np.ndarray


def edit_region(layers) -> EditRegion:
    """The coverage of every color stroke, sketch band, warp target and warp source; the geometric ones apart."""
    warp = layers.warp_mask.astype(np.float32).copy()
    # Mark each warp target's source pixel too (offsets are fractions of the image, pointing target -> source).
    ys, xs = np.nonzero(layers.warp_mask > 0)
    if len(ys):
        size = warp.shape[0]
        offset = layers.warp[ys, xs] * size  # [n, 2] (x, y) in model pixels
        sx = np.clip(np.rint(xs + offset[:, 0]).astype(int), 0, size - 1)
        sy = np.clip(np.rint(ys + offset[:, 1]).astype(int), 0, size - 1)
        np.maximum.at(warp, (sy, sx), layers.warp_mask[ys, xs])
    motion = np.maximum(layers.sketch_mask, warp).astype(np.float32)
    return EditRegion(change=np.maximum(layers.color_mask, motion).astype(np.float32), motion=motion,
                      paint=layers.color_mask.astype(np.float32), colour=layers.color.astype(np.float32))
