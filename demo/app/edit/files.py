"""The app's file jobs: open a photo (off the UI thread), save the picture (its animation off the UI thread).
Each says what to tell the user (no GL)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from demo.app.edit.saving import save_result
from demo.errors import UserError


def open_photo(path: str | Path, *, max_side: int | None = None) -> tuple[np.ndarray | None, str]:
    """The photo [H, W, 3] uint8 (longer side at most ``max_side``) and a line about it, or None and why not."""
    from demo.tools import photo as photos

    try:
        opened = photos.open_photo(path, max_side=min(photos.DEFAULT_MAX_SIDE, max_side or photos.DEFAULT_MAX_SIDE))
    except UserError as exc:
        return None, str(exc)
    width, height = opened.original_size
    scaled = "" if (width, height) == opened.pixels.shape[1::-1] else f", shown at {opened.pixels.shape[1]}x{opened.pixels.shape[0]}"
    return opened.pixels, f"loaded {Path(path).name} ({width}x{height}{scaled}); projecting it onto the model"


class PhotoOpener:
    """Decodes a photo on a background thread (a 20000 px JPEG takes seconds), so frames keep coming.

    ``start`` begins a decode (a newer one wins); ``take`` returns (photo or None, message) once, when done.
    """

    def __init__(self, *, max_side: int | None = None):
        self.max_side = max_side
        self._lock = threading.Lock()
        self._generation = 0
        self._done: tuple[np.ndarray | None, str] | None = None

    def start(self, path: str | Path) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
        threading.Thread(target=self._decode, args=(path, generation), daemon=True, name="photo-decode").start()

    def _decode(self, path, generation: int) -> None:
        outcome = open_photo(path, max_side=self.max_side)
        with self._lock:
            if generation == self._generation:
                self._done = outcome

    @property
    def busy(self) -> bool:
        return self._generation > 0 and self._done is None

    def take(self) -> tuple[np.ndarray | None, str] | None:
        with self._lock:
            done, self._done = self._done, None
        return done


def save_picture(folder: Path, *, result, events, meta: dict, photo_result: np.ndarray | None) -> tuple[Path | None, str]:
    """Save the shown candidate (+ its display-size image, the photo with the edit, and the edit's morph as
    an animation, written on a thread of its own); the path and a line, or None and why not."""
    from demo.ops.animation import display_frames, write_animation_later

    if result is None or not len(result.images):
        return None, "nothing to save yet"
    meta = {**meta, "model_name": result.model_name, "stand_in": result.stand_in, "device": result.device,
            "candidates": result.candidates, "steps_done": result.steps_done, "slot": int(result.slots[result.current]),
            "loss": float(result.losses[result.current])}
    display = result.display if result.display is not None else display_frames(result.image[None])[0]
    try:
        path = save_result(folder, image=result.image, events=events, meta=meta, photo_result=photo_result,
                           display=display)
    except OSError as exc:
        return None, f"{folder}: cannot save ({exc.strerror or exc})"
    morph = result.morph_display if result.morph_display is not None else result.morph
    if morph is not None and len(morph) > 1:  # the animation at the display image's size
        write_animation_later(path.with_suffix(".webp"), morph, side=display.shape[0])
    return path, f"saved {path}"


def write_image(path: str | Path, rgb: np.ndarray) -> Path:
    """Write ``rgb`` [H, W, 3] uint8 as an image file (format from the suffix); its folder is made if needed."""
    import cv2

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return path
