"""Synthetic image pairs with known flow and known color change, for tests and benchmarks (numpy/OpenCV)."""

from __future__ import annotations

import cv2
import numpy as np


def smooth_texture(rng: np.random.Generator, height: int, width: int, *, blobs: int = 6) -> np.ndarray:
    """A GAN-like picture [H, W, 3] float32 in [0, 1]: multi-scale smooth colour noise plus soft-edged blobs."""
    image = np.zeros((height, width, 3), np.float32)
    # Sum smooth noise at several scales (coarse dominates, fine adds texture).
    for sigma, weight in ((max(height, width) / 6, 0.6), (max(height, width) / 24, 0.3), (1.0, 0.1)):
        noise = rng.normal(0.0, 1.0, (height, width, 3)).astype(np.float32)
        noise = cv2.GaussianBlur(noise, (0, 0), sigma)
        image += weight * noise / (noise.std() + 1e-6)
    image = 0.5 + 0.18 * image
    # Paint soft ellipses: edges that a flow estimator can lock onto.
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    for _ in range(blobs):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        ry, rx = rng.uniform(0.05, 0.25) * height, rng.uniform(0.05, 0.25) * width
        inside = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
        alpha = np.clip((1.0 - inside) * 4.0, 0.0, 1.0)[..., None]
        image = image * (1 - alpha) + alpha * rng.uniform(0.05, 0.95, 3).astype(np.float32)
    return np.clip(image, 0.0, 1.0)


def smooth_flow(rng: np.random.Generator, height: int, width: int, *, amplitude: float, sigma: float | None = None) -> np.ndarray:
    """A random smooth flow [H, W, 2] float32 whose largest displacement is ``amplitude`` pixels."""
    sigma = sigma if sigma is not None else max(height, width) / 8
    flow = cv2.GaussianBlur(rng.normal(0.0, 1.0, (height, width, 2)).astype(np.float32), (0, 0), sigma)
    return flow * (amplitude / (np.abs(flow).max() + 1e-12))


def smooth_affine_color(rng: np.random.Generator, height: int, width: int, *, strength: float = 0.3) -> np.ndarray:
    """A smooth per-pixel affine color change [H, W, 3, 4] (3x3 matrix | offset), near identity."""
    field = np.empty((height, width, 3, 4), np.float32)
    for k in range(12):
        plane = cv2.GaussianBlur(rng.normal(0.0, 1.0, (height, width)).astype(np.float32), (0, 0), max(height, width) / 6)
        field[..., k // 4, k % 4] = strength * plane / (np.abs(plane).max() + 1e-12)
    field[..., :3] += np.eye(3, dtype=np.float32)
    return field


def apply_affine_color(image: np.ndarray, color: np.ndarray) -> np.ndarray:
    """``color[..., :3] @ rgb + color[..., 3]`` per pixel: [H, W, 3] x [H, W, 3, 4] -> [H, W, 3]."""
    return np.einsum("hwij,hwj->hwi", color[..., :3], image) + color[..., 3]


def band_region(height: int, width: int, *, top: float, bottom: float, soft: float = 1.5) -> np.ndarray:
    """A horizontal band [H, W] float32 in [0, 1] between rows ``top`` and ``bottom`` (fractions), soft edges in pixels."""
    rows = np.arange(height, dtype=np.float32) + 0.5
    inside = np.minimum(rows - top * height, bottom * height - rows)
    return np.broadcast_to(np.clip(0.5 + inside / (2 * soft), 0.0, 1.0)[:, None], (height, width)).astype(np.float32)


def recolour(image: np.ndarray, region: np.ndarray, colour, *, strength: float = 0.7) -> np.ndarray:
    """``image`` [H, W, 3] pulled toward ``colour`` (RGB in [0, 1]) by ``strength`` inside ``region`` [H, W]: a pure recolouring."""
    weight = strength * region[..., None]
    return (image * (1 - weight) + np.asarray(colour, np.float32) * weight).astype(np.float32)


def noisy_photo(rng: np.random.Generator, height: int, width: int, *, texture_size: int = 96,
                grain: float = 12.0) -> np.ndarray:
    """A photo-like [H, W, 3] uint8: a smooth ``texture_size``² picture upsampled, plus Gaussian grain (0..255 units)."""
    picture = cv2.resize(smooth_texture(rng, texture_size, texture_size), (width, height),
                         interpolation=cv2.INTER_CUBIC) * 255
    return np.clip(picture + rng.normal(0, grain, (height, width, 3)) + 0.5, 0, 255).astype(np.uint8)
