"""Procedural landscapes: a varied, deterministic training set for the landscape GAN.

Each image is drawn from one seed (``numpy.random.default_rng(seed)``) at ``supersample`` times the
output size, then area-downsampled, so edges are anti-aliased. A scene is layered back to front:

    sky (day, golden hour, dusk, night, overcast) -> sun or moon, stars -> clouds
    -> 1-4 mountain ridges (haze, slope shading, snow caps, forested fronts)
    -> below the horizon: sea, lake or land (grass, fields, desert), water reflects what is above
    -> a forest strip on the far shore and a few foreground trees.

Pure numpy + OpenCV; no torch. ``render_landscape(seed)`` -> uint8 [H, W, 3] RGB;
``render_landscape_with_labels(seed)`` also gives its label map (``LABELS``: sky, ridge, water, ground), from the
same draws, so that every image is the one ``render_landscape`` gives. The painter is
``demo.data.landscape_scene.Scene``; its noise helpers are in ``demo.data.noise``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from demo.data.landscape_scene import LABELS, Scene

__all__ = ["DARK_SCENE_MEAN", "LABELS", "LandscapeConfig", "describe_landscape", "render_batch", "render_landscape",
           "render_landscape_with_labels"]

# A scene whose mean level (0..1) is below this is dark: every night sky of the landscapes, and nothing else
# (their means fall in 0.03-0.15 and the next darkest at 0.18; dusk starts near 0.2). Training draws such
# scenes more often for its reconstruction term (--recon-dark-boost).
DARK_SCENE_MEAN = 0.16


@dataclass(frozen=True, kw_only=True)
class LandscapeConfig:
    """Output size and anti-aliasing factor (the scene is drawn at size * supersample)."""

    size: int = 64
    supersample: int = 2

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"size must be >= 8, got {self.size}")
        if self.supersample < 1:
            raise ValueError(f"supersample must be >= 1, got {self.supersample}")


def render_landscape(seed: int, *, config: LandscapeConfig = LandscapeConfig()) -> np.ndarray:
    """One landscape, uint8 [size, size, 3] RGB, identical for identical seeds."""
    return render_landscape_with_labels(seed, config=config)[0]


def render_landscape_with_labels(seed: int, *, config: LandscapeConfig = LandscapeConfig()) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8 [size, size, 3] RGB, labels uint8 [size, size]: an index into ``LABELS`` per pixel)."""
    scene = Scene(np.random.default_rng(seed), config.size * config.supersample)
    image = np.clip(scene.render(), 0.0, 1.0)  # [n, n, 3] float in 0..1
    labels = scene.labels  # [n, n]
    if config.supersample > 1:
        image = cv2.resize(image, (config.size, config.size), interpolation=cv2.INTER_AREA)
        labels = cv2.resize(labels, (config.size, config.size), interpolation=cv2.INTER_NEAREST)
    return (image * 255.0 + 0.5).astype(np.uint8), labels


def describe_landscape(seed: int) -> dict[str, object]:
    """The scene choices a seed makes (sky, water, ground, horizon), without drawing it."""
    scene = Scene(np.random.default_rng(seed), 8)
    return {"sky": scene.sky_kind, "water": scene.water, "ground": scene.ground, "horizon": scene.horizon}


def render_batch(seeds, *, config: LandscapeConfig = LandscapeConfig()) -> np.ndarray:
    """Landscapes for several seeds, uint8 [N, size, size, 3]."""
    return np.stack([render_landscape(int(s), config=config) for s in seeds])
