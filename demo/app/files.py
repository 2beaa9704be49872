"""The app's file jobs: open a photo, save the picture. Each returns what to tell the user (no GL)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from demo.app.saving import save_result
from demo.errors import UserError


def open_photo(path: str | Path) -> tuple[np.ndarray | None, str]:
    """The photo [H, W, 3] uint8 and a line about it, or None and the reason it cannot be used."""
    from demo.tools.photo import load_photo

    try:
        photo = load_photo(path)
    except UserError as exc:
        return None, str(exc)
    return photo, f"loaded {Path(path).name} ({photo.shape[1]}x{photo.shape[0]}); projecting it onto the model"


def save_picture(folder: Path, *, result, events, meta: dict, photo_result: np.ndarray | None) -> tuple[Path | None, str]:
    """Save the shown candidate (+ the photo with the edit); the path and a line, or None and why not."""
    if result is None or not len(result.images):
        return None, "nothing to save yet"
    meta = {**meta, "model_name": result.model_name, "stand_in": result.stand_in, "device": result.device,
            "candidates": result.candidates, "steps_done": result.steps_done, "slot": int(result.slots[result.current]),
            "loss": float(result.losses[result.current])}
    try:
        path = save_result(folder, image=result.image, events=events, meta=meta, photo_result=photo_result)
    except OSError as exc:
        return None, f"{folder}: cannot save ({exc.strerror or exc})"
    return path, f"saved {path}"
