"""Noise and colour helpers for procedural scenes: smooth value noise (1-D and 2-D fractal sums), smoothstep,
and colour jitter. Pure numpy + OpenCV; every draw comes from the ``rng`` passed in."""

from __future__ import annotations

import cv2
import numpy as np


def noise2d(rng: np.random.Generator, h: int, w: int, cells_y: int, cells_x: int) -> np.ndarray:
    """Smooth value noise in 0..1, [h, w] float32."""
    grid = rng.random((cells_y + 1, cells_x + 1), dtype=np.float32)
    return cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)


def fractal2d(rng: np.random.Generator, h: int, w: int, cells_y: int, cells_x: int, octaves: int = 3) -> np.ndarray:
    """Sum of octaves of value noise, normalised to about 0..1, [h, w]."""
    total = np.zeros((h, w), np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        total += amp * noise2d(rng, h, w, cells_y * 2**o, cells_x * 2**o)
        norm += amp
        amp *= 0.5
    return total / norm


def fractal1d(rng: np.random.Generator, n: int, *, cells: int, octaves: int, persistence: float) -> np.ndarray:
    """1-D fractal noise in about -1..1, [n]; linear interpolation keeps ridges sharp."""
    xs = np.linspace(0.0, 1.0, n, dtype=np.float32)
    total = np.zeros(n, np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        c = cells * 2**o
        knots = rng.random(c + 1).astype(np.float32) * 2 - 1
        total += amp * np.interp(xs * c, np.arange(c + 1), knots).astype(np.float32)
        norm += amp
        amp *= persistence
    return total / norm


def smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def jitter(rng: np.random.Generator, color, amount: float) -> np.ndarray:
    return np.clip(np.asarray(color, np.float32) + rng.normal(0, amount, 3).astype(np.float32), 0, 1)
