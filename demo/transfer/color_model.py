"""A smooth, locally affine color change: target ~ A(p) @ guide + b(p), fitted at model resolution.

iGAN moves the edit rather than the pixels: after warping G(z0) onto G(z_t), what is left is a color
change. We model it like the guided filter (He et al.), with the warped G(z0) as the 3-channel guide:
in each (2r+1)^2 window a 3x4 affine map is fitted by ridge regression, regularised towards the
*identity* (not towards zero as in the guided filter, so a flat window keeps the photo's detail and only
shifts its mean color), then the per-window maps are averaged over the windows covering each pixel.
The result, [h, w, 3, 4], is smooth, so it can be upsampled bilinearly to the photo's size and applied to
the warped photo there.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

EYE = np.eye(3, dtype=np.float32)


@dataclass(frozen=True, kw_only=True)
class ColorConfig:
    """radius: window radius in model pixels; eps: pull towards the identity (in color variance units)."""

    radius: int = 3
    eps: float = 1e-3

    def __post_init__(self) -> None:
        if self.radius < 1:
            raise ValueError(f"color window radius must be >= 1, got {self.radius}")
        if self.eps <= 0:
            raise ValueError(f"color regularisation eps must be > 0, got {self.eps}")


def identity_color(height: int, width: int) -> np.ndarray:
    """The no-change color model [h, w, 3, 4]."""
    color = np.zeros((height, width, 3, 4), np.float32)
    color[..., :3] = EYE
    return color


def fit_local_affine(guide: np.ndarray, target: np.ndarray, *, config: ColorConfig = ColorConfig()) -> np.ndarray:
    """Per-pixel affine color maps [h, w, 3, 4] with ``target ~ color[..., :3] @ guide + color[..., 3]``.

    guide, target: [h, w, 3] float in [0, 1] (the warped G(z0) and G(z_t)).
    """
    if guide.shape != target.shape or guide.ndim != 3 or guide.shape[2] != 3:
        raise ValueError(f"color fit needs two [h, w, 3] images, got {guide.shape} and {target.shape}")
    h, w = guide.shape[:2]
    guide = guide.astype(np.float32)
    target = target.astype(np.float32)
    size = (2 * config.radius + 1,) * 2

    def window_mean(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(np.ascontiguousarray(x), -1, size, borderType=cv2.BORDER_REFLECT)

    # Window statistics: means, guide covariance and guide-target cross covariance.
    mean_g = window_mean(guide)  # [h, w, 3]
    mean_t = window_mean(target)  # [h, w, 3]
    outer_gg = (guide[..., :, None] * guide[..., None, :]).reshape(h, w, 9)
    outer_gt = (guide[..., :, None] * target[..., None, :]).reshape(h, w, 9)
    cov_gg = window_mean(outer_gg).reshape(h, w, 3, 3) - mean_g[..., :, None] * mean_g[..., None, :]  # [h, w, 3, 3]
    cov_gt = window_mean(outer_gt).reshape(h, w, 3, 3) - mean_g[..., :, None] * mean_t[..., None, :]  # [h, w, 3(in), 3(out)]

    # Ridge regression towards the identity: (cov_gg + eps I) A^T = cov_gt + eps I.
    a_t = np.linalg.solve(cov_gg + config.eps * EYE, cov_gt + config.eps * EYE)  # [h, w, 3(in), 3(out)]
    matrix = np.swapaxes(a_t, -1, -2)  # [h, w, 3(out), 3(in)]
    offset = mean_t - np.einsum("hwij,hwj->hwi", matrix, mean_g)  # [h, w, 3]

    # Average the maps of all windows that cover each pixel.
    color = np.concatenate([matrix, offset[..., None]], axis=-1).reshape(h, w, 12)
    return window_mean(color).reshape(h, w, 3, 4).astype(np.float32)  # [h, w, 3, 4]


def apply_local_affine(image: np.ndarray, color: np.ndarray) -> np.ndarray:
    """``color[..., :3] @ rgb + color[..., 3]`` per pixel: [H, W, 3] float, [H, W, 3, 4] -> [H, W, 3] float32.

    Written as 12 multiply-adds on whole planes (much faster than einsum at photo size).
    """
    image = image.astype(np.float32, copy=False)
    out = np.empty(image.shape, np.float32)
    for c in range(3):
        row = color[:, :, c]  # [H, W, 4]
        out[..., c] = row[..., 3] + row[..., 0] * image[..., 0] + row[..., 1] * image[..., 1] + row[..., 2] * image[..., 2]
    return out
