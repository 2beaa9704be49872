"""The colour change over a stroke's region: G's own change where it is clear, spread over the rest of the region.

numpy/OpenCV only. Inside the region (``demo.transfer.region``) the generator changed the sky strongly in
places and hardly at all in others, and it also drifts by 10-80/255 on ground the stroke never touched. So
the local colour model (``color_model.fit_local_affine``) is trusted only inside the region, in proportion to
how far G moved there toward the colour painted (the strokes' colours, spread over the region). Elsewhere in the
region G's colour *shift* is filled in by normalised convolution (a Gaussian of ``sigma`` model pixels over the
weighted shifts, pulled towards their weighted mean over the whole region where nothing is near), as an
offset on the identity: a map fitted on one colour extrapolates badly to another, a shift does not. So the
photo's own texture (clouds, ripples, grain) comes through the change; the region's border is the photo's
(the renderers take it at full resolution).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from demo.transfer.color_model import identity_color


@dataclass(frozen=True, kw_only=True)
class SpreadConfig:
    """How G's change in the region is read and spread (colours in 0..1, distances in model pixels)."""

    clear_change: float = 0.06  # G's move toward the painted colour (RGB distance) at which its local model is trusted,
    clear_share: float = 0.6  # or this share of the move of its most-moved tenth in the region, if that is more
    sigma: float = 6.0  # the fill's Gaussian
    global_pull: float = 0.02  # weight of the region's mean shift in the fill
    fill_power: float = 4.0  # the fill weighs G's shifts by trust ** this (the strongest moves, near the strokes)
    extend: int = 3  # the maps reach this far beyond the region, so that upsampling does not dilute its border
    visible_change: float = 0.004  # mean RMS change of G in the region below which the region is not drawn


def painted_colour(colour: np.ndarray, paint: np.ndarray, *, sigma: float) -> np.ndarray:
    """[h, w, 3]: the colour painted nearest each pixel (the strokes' colour, filled in by normalised convolution)."""
    weight = paint.astype(np.float32)
    if weight.sum() <= 0:
        return np.zeros_like(colour)
    mean = (colour * weight[..., None]).sum((0, 1)) / weight.sum()  # [3]
    spread = cv2.GaussianBlur(colour * weight[..., None], (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    density = cv2.GaussianBlur(weight, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)[..., None]
    return ((spread + 1e-3 * mean) / (density + 1e-3)).astype(np.float32)


def spread_in_region(source: np.ndarray, target: np.ndarray, color: np.ndarray, inside: np.ndarray,
                     painted: np.ndarray, *, config: SpreadConfig = SpreadConfig()) -> tuple[np.ndarray, np.ndarray, float]:
    """(maps [h, w, 3, 4] over the region and ``extend`` pixels around it, weight [h, w] of those maps, gain).

    ``source``, ``target``: G(z0) and G(z_t) [h, w, 3] in 0..1; ``color``: the local affine maps from one to the
    other; ``inside``: the region's membership at model resolution [h, w] in 0..1; ``painted``: the colour asked
    for near each pixel [h, w, 3] (``painted_colour``). ``gain`` in [0, 1] fades the region in with G's change (0 at the morph's first frame, where nothing changed: the photo is kept exactly).
    """
    change = np.sqrt(((target - source) ** 2).mean(-1))  # [h, w] RMS
    toward = np.linalg.norm(source - painted, axis=-1) - np.linalg.norm(target - painted, axis=-1)  # [h, w]
    # Trust G's local maps where it moved toward the colour about as far as it did where it moved most.
    moved = toward[inside > 0.5]
    strong = max(config.clear_change, config.clear_share * float(np.quantile(moved, 0.9))) if moved.size else config.clear_change
    clear = np.clip(toward / strong, 0.0, 1.0) * inside  # [h, w] trust in G's local change
    total = float(clear.sum())
    if total <= 1e-6:
        return identity_color(*inside.shape), np.zeros_like(inside), 0.0
    # Fill in G's colour shift (not its maps: a map fitted on one colour extrapolates badly to another) by
    # normalised convolution, pulled towards its weighted mean over the region where no clear change is near.
    shift = target - source  # [h, w, 3]
    source_weight = clear**config.fill_power  # [h, w] the fill takes its shift where G moved most
    mean_shift = (shift * source_weight[..., None]).sum((0, 1)) / max(float(source_weight.sum()), 1e-6)  # [3]

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (0, 0), config.sigma, borderType=cv2.BORDER_REFLECT)

    weight = blur(source_weight)[..., None]  # [h, w, 1]
    filled = identity_color(*inside.shape)
    filled[..., 3] = (blur(shift * source_weight[..., None]) + config.global_pull * mean_shift) / (weight + config.global_pull)
    maps = clear[..., None, None] * color + (1.0 - clear[..., None, None]) * filled  # [h, w, 3, 4]
    # The maps hold over the region and a little beyond it (the photo's border decides there), then stop.
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * config.extend + 1,) * 2)
    reach = cv2.dilate((inside > 0.05).astype(np.float32), kernel)
    reach = cv2.GaussianBlur(reach, (0, 0), 1.0, borderType=cv2.BORDER_REPLICATE)
    reach = np.maximum(reach, inside)
    in_region = change[inside > 0.5]
    level = float(in_region.mean()) if in_region.size else float((change * inside).sum() / max(inside.sum(), 1e-6))
    gain = float(np.clip(level / config.visible_change, 0.0, 1.0))
    return maps.astype(np.float32), reach.astype(np.float32), gain
