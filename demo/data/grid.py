"""Image grids and PNG writing for previews and sample sheets (numpy + OpenCV)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from demo.errors import UserError


def image_grid(images: np.ndarray, *, columns: int = 8, pad: int = 2, background: int = 24) -> np.ndarray:
    """Tile uint8 [N, H, W, 3] images into one uint8 [rows*(H+pad)+pad, columns*(W+pad)+pad, 3] grid."""
    count, h, w, c = images.shape
    rows = -(-count // columns)
    grid = np.full((rows * (h + pad) + pad, columns * (w + pad) + pad, c), background, np.uint8)
    for i, img in enumerate(images):
        r, col = divmod(i, columns)
        y, x = pad + r * (h + pad), pad + col * (w + pad)
        grid[y : y + h, x : x + w] = img
    return grid


def save_png(path: str | Path, rgb: np.ndarray) -> Path:
    """Write a uint8 RGB [H, W, 3] array as PNG, creating the folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), np.ascontiguousarray(rgb[..., ::-1])):
        raise UserError(f"{path}: could not write PNG")
    return path
