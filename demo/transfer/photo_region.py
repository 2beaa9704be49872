"""Where on the photo the model's fields land, and photos too large for the renderer (numpy/OpenCV only).

The model sees the photo's centred square (``demo.tools.photo.centre_crop_resize``); both renderers take
that square as ``rect`` and fade the edit out beyond it over ``DEFAULT_FADE`` model pixels.
"""

from __future__ import annotations

import cv2
import numpy as np

DEFAULT_FADE = 6.0  # model pixels

Rect = tuple[int, int, int, int]  # (x0, y0, width, height) in photo pixels


def centre_square(height: int, width: int) -> Rect:
    """The region ``demo.tools.photo.centre_crop_resize`` gives the model: the largest centred square."""
    side = min(height, width)
    return (width - side) // 2, (height - side) // 2, side, side


def fit_photo(photo: np.ndarray, *, max_size: int, source: str = "photo") -> tuple[np.ndarray, str | None]:
    """Scale ``photo`` down (INTER_AREA) when a side exceeds ``max_size`` (e.g. GL_MAX_TEXTURE_SIZE).

    Returns (photo, message); message says what was done, or is None when the photo was kept as is.
    """
    height, width = photo.shape[:2]
    if max(height, width) <= max_size:
        return photo, None
    scale = max_size / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    message = (f"{source}: {width}x{height} is larger than this GPU's largest texture ({max_size} pixels a side); "
               f"scaled down to {size[0]}x{size[1]}")
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA), message


def check_photo(photo: np.ndarray, rect: Rect | None) -> Rect:
    """Validate the photo; return the model's region (the whole photo by default)."""
    if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
        raise ValueError(f"photo must be [H, W, 3] uint8 RGB, got {photo.dtype} {photo.shape}")
    height, width = photo.shape[:2]
    rect = (0, 0, width, height) if rect is None else tuple(int(v) for v in rect)
    x0, y0, rect_w, rect_h = rect
    if rect_w <= 0 or rect_h <= 0 or x0 < 0 or y0 < 0 or x0 + rect_w > width or y0 + rect_h > height:
        raise ValueError(f"model region {rect} must lie inside the {width}x{height} photo")
    return rect
