"""Where to apply the edit: a soft mask from how much the generated image changed (numpy/OpenCV only).

Choice: a pixel is "changed" when G(z_t) differs from G(z0) in color (RMS over RGB, in [0, 1] units)
or when the flow moves it. The score ``max((color_change - color_floor) / (color_threshold - color_floor),
|flow| / flow_threshold)`` is clipped to [0, 1], grown by a small dilation (so edges of an edited region are
covered), then feathered with a small Gaussian. Where the mask is 0 the output is the original photo, bit for
bit; where it is 1 the photo is warped and recolored. Drifts of the generator below ``color_floor`` (5/255 RMS)
leave the photo untouched, instead of degrading it.

``edit_reach`` is the second, harder limit: where the user asked for a change at all (their strokes), grown by
``grow`` model pixels and falling to 0 over ``falloff`` more. A GAN edit is global (recolouring the sky also
changes the generated ground by 10-80/255), so only the strokes can tell the asked-for change from the drift.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, kw_only=True)
class MaskConfig:
    """Thresholds at which the mask starts (floor) and saturates, and its growth and feathering, in model pixels."""

    color_floor: float = 0.02
    color_threshold: float = 0.08
    flow_threshold: float = 1.0
    dilate: int = 2
    feather: float = 1.0

    def __post_init__(self) -> None:
        if not 0 <= self.color_floor < self.color_threshold:
            raise ValueError(f"mask needs 0 <= color_floor < color_threshold, got {self.color_floor}, {self.color_threshold}")


def change_mask(source: np.ndarray, target: np.ndarray, flow: np.ndarray, *, config: MaskConfig = MaskConfig()) -> np.ndarray:
    """Soft mask [h, w] float32 in [0, 1]: 1 where G(z0) (``source``) became something else in ``target``."""
    color_change = np.sqrt(((target.astype(np.float32) - source.astype(np.float32)) ** 2).mean(-1))  # [h, w]
    motion = np.sqrt((flow**2).sum(-1))  # [h, w]
    score = np.maximum((color_change - config.color_floor) / (config.color_threshold - config.color_floor),
                       motion / config.flow_threshold)
    mask = np.clip(score, 0.0, 1.0).astype(np.float32)
    # Grow, then feather.
    if config.dilate > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * config.dilate + 1,) * 2)
        mask = cv2.dilate(mask, kernel, borderType=cv2.BORDER_REPLICATE)
    if config.feather > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), config.feather, borderType=cv2.BORDER_REPLICATE)
    return np.clip(mask, 0.0, 1.0)


def edit_reach(region: np.ndarray, *, grow: float, falloff: float) -> np.ndarray:
    """[h, w] float32 in [0, 1]: 1 within ``grow`` model pixels of ``region`` (coverage >= 0.5), 0 beyond ``grow + falloff``.

    A smoothstep of the distance to the region, so a slightly different stroke gives a slightly different reach.
    """
    inside = (region >= 0.5).astype(np.uint8)
    if not inside.any():
        return np.zeros(region.shape, np.float32)
    distance = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)  # [h, w] model pixels
    t = np.clip((distance - grow) / max(falloff, 1e-6), 0.0, 1.0)
    return (1.0 - t * t * (3.0 - 2.0 * t)).astype(np.float32)
