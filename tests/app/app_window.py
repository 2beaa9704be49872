"""Driving the app in a real window for tests: two colour strokes, building an app on a model, drawing
frames until a condition holds, reading the canvas back, and the UI's actions."""

from __future__ import annotations

import time

import numpy as np

from demo.app.app import App
from demo.app.config import AppConfig
from demo.tools.session import Event

RED, GREEN = (250, 30, 30), (30, 220, 60)
STROKES = [
    Event(t=0.0, type="down", tool="color", x=0.05, y=0.2, pressure=1.0, color=RED, width=0.3),
    Event(t=0.05, type="move", x=0.5, y=0.2), Event(t=0.1, type="move", x=0.95, y=0.2), Event(t=0.12, type="up"),
    Event(t=0.3, type="down", tool="color", x=0.05, y=0.8, pressure=1.0, color=GREEN, width=0.3),
    Event(t=0.35, type="move", x=0.5, y=0.8), Event(t=0.4, type="move", x=0.95, y=0.8), Event(t=0.42, type="up"),
]


def make_app(model, tmp_path, **overrides) -> App:
    config = dict(model=str(model), size=(640, 480), worker="sync", device="cpu", candidates=4, steps=10, top_k=4,
                  max_fps=0, save_dir=tmp_path / "saves", chunk_seconds=0.2, morph_frames=4)
    config.update(overrides)
    return App(AppConfig(**config))


def run_until(app: App, done, *, frames: int = 600, pause: float = 0.0) -> None:
    """Draw frames until ``done()``; ``pause`` seconds between frames leave the GIL to the app's threads."""
    for _ in range(frames):
        app.frame()
        if done():
            return
        time.sleep(pause)
    raise AssertionError(f"condition not reached in {frames} frames")


def canvas_pixels(app: App, image: np.ndarray | None = None) -> np.ndarray:
    image = app.capture() if image is None else image
    x, y, w, h = (int(round(v)) for v in app.layout.canvas)
    return image[y:y + h, x:x + w].astype(np.float32)


def band(pixels: np.ndarray, v: float, half: float = 0.06) -> np.ndarray:
    h = pixels.shape[0]
    return pixels[int((v - half) * h):int((v + half) * h), int(0.2 * h):int(0.8 * h)].reshape(-1, 3)


def distance(pixels: np.ndarray, color) -> float:
    return float(np.linalg.norm(pixels - np.asarray(color, np.float32), axis=1).mean())


def app_action(name, value=None):
    from demo.input import Action

    return Action(name=name, value=value)
