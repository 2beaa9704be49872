"""The image to show while the engine loads: the model's start preview for this seed (numpy + OpenCV).

``python -m demo.engine.checkpoint.start_seeds NAME --previews-only`` stores, beside a model's card, the first image the
engine shows for each start seed. Shown at once, it is replaced by the engine's first result, which
is the same picture, about two seconds later on a CPU (the worker's torch import).
"""

from __future__ import annotations

import json

import cv2
import numpy as np

from demo.errors import UserError
from demo.model_files import resolve_model_path


def load_start_preview(model: str, *, seed: int) -> np.ndarray | None:
    """uint8 [R, R, 3] RGB, the first image of a fresh start with ``seed``; None when the model has none."""
    try:
        card_path = resolve_model_path(model).with_suffix(".json")
        card = json.loads(card_path.read_text())
    except (UserError, OSError, ValueError):
        return None
    name, seeds = card.get("start_previews"), card.get("start_seeds")
    if not isinstance(name, str) or not isinstance(seeds, list) or not seeds:
        return None
    strip = cv2.imread(str(card_path.parent / name), cv2.IMREAD_COLOR)  # [n * R, R, 3] BGR
    if strip is None or strip.shape[0] != len(seeds) * strip.shape[1]:
        return None  # missing, or written for other start seeds
    size = strip.shape[1]
    index = seed % len(seeds)  # as start_seed_for hands the start seeds out
    return np.ascontiguousarray(strip[index * size:(index + 1) * size, :, ::-1])
