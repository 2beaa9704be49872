"""Save folders full of pictures for the gallery's checks (the browser check, the load test): procedural
landscapes (``demo.data``) written by the app's own saver, each with a stand-in "morph" (a cross-fade
from another landscape) as its animation. No model is needed."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from demo.app.edit.saving import save_result
from demo.data.landscapes import render_landscape
from demo.ops.animation import write_animation

MORPH_FRAMES = 8


def save_sample(folder: Path, seed: int, *, station: str, now: float | None = None, animate: bool = True) -> Path:
    """One picture as a kiosk saves it (PNG, display JPEG, session, card, animation); its PNG's path."""
    image = render_landscape(seed)
    display = cv2.resize(image, (256, 256), interpolation=cv2.INTER_CUBIC)
    path = save_result(folder, image=image, events=[], meta={"station": station, "model": "landscapes (sample)"},
                       display=display, now=now)
    if animate:
        start = render_landscape(seed + 100_000).astype(np.float32)
        weights = np.linspace(0.0, 1.0, MORPH_FRAMES)[:, None, None, None]
        frames = (start[None] * (1 - weights) + image.astype(np.float32)[None] * weights).round().astype(np.uint8)
        write_animation(path.with_suffix(".webp"), frames)
    return path


def fill(folder: Path, count: int, *, stations: tuple[str, ...] = ("hall-1", "hall-2"), animate: bool = True,
         start_time: float = 1.7e9) -> list[Path]:
    """``count`` pictures one minute apart, from the stations in turn."""
    folder.mkdir(parents=True, exist_ok=True)
    return [save_sample(folder, seed, station=stations[seed % len(stations)], now=start_time + 60 * seed,
                        animate=animate) for seed in range(count)]
