"""Where to apply the edit: a soft mask from how much the generated image changed (numpy/OpenCV only).

Choice: a pixel is "changed" when G(z_t) differs from G(z0) in color (RMS over RGB, in [0, 1] units)
or when the flow moves it. The score ``max(color_change / color_threshold, |flow| / flow_threshold)``
is clipped to [0, 1], grown by a small dilation (so edges of an edited region are covered), then
feathered with a Gaussian. Where the mask is 0 the output is the original photo, bit for bit; where it
is 1 the photo is warped and recolored. Small drifts of the generator below the thresholds (e.g. a 2/255
tint everywhere) therefore leave the photo untouched, instead of degrading it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, kw_only=True)
class MaskConfig:
    """Thresholds at which the mask saturates, and its growth and feathering, in model pixels."""

    color_threshold: float = 0.08
    flow_threshold: float = 1.0
    dilate: int = 2
    feather: float = 2.0


def change_mask(source: np.ndarray, target: np.ndarray, flow: np.ndarray, *, config: MaskConfig = MaskConfig()) -> np.ndarray:
    """Soft mask [h, w] float32 in [0, 1]: 1 where G(z0) (``source``) became something else in ``target``."""
    color_change = np.sqrt(((target.astype(np.float32) - source.astype(np.float32)) ** 2).mean(-1))  # [h, w]
    motion = np.sqrt((flow**2).sum(-1))  # [h, w]
    score = np.maximum(color_change / config.color_threshold, motion / config.flow_threshold)
    mask = np.clip(score, 0.0, 1.0).astype(np.float32)
    # Grow, then feather.
    if config.dilate > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * config.dilate + 1,) * 2)
        mask = cv2.dilate(mask, kernel, borderType=cv2.BORDER_REPLICATE)
    if config.feather > 0:
        mask = cv2.GaussianBlur(mask, (0, 0), config.feather, borderType=cv2.BORDER_REPLICATE)
    return np.clip(mask, 0.0, 1.0)
