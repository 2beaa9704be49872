"""Saving the result: PNG + session + model name, never overwriting an earlier save."""

from __future__ import annotations

import json
import time
from pathlib import Path

import cv2
import numpy as np

from demo.tools.session import SESSION_VERSION, Event


def _claim(folder: Path, stem: str) -> tuple[Path, object]:
    """Create ``folder/stem[-N].png`` exclusively (a concurrent or earlier save is never overwritten)."""
    for n in range(10000):
        name = stem if n == 0 else f"{stem}-{n}"
        path = folder / f"{name}.png"
        if any((folder / f"{name}{suffix}").exists() for suffix in (".jsonl", ".json", "-photo.png")):
            continue
        try:
            return path, path.open("xb")
        except FileExistsError:
            continue
    raise FileExistsError(f"{folder}: no free name for {stem}")


def save_result(folder: str | Path, *, image: np.ndarray, events: list[Event], meta: dict,
                photo_result: np.ndarray | None = None, now: float | None = None) -> Path:
    """Write NAME.png (the result at full model resolution), NAME.jsonl (the session, replayable with
    --replay), NAME.json (model, seed, device, losses...) and NAME-photo.png (the photo with the edit,
    when one is loaded). Returns the PNG's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = time.strftime("igan-%Y%m%d-%H%M%S", time.localtime(now))
    path, handle = _claim(folder, stem)
    with handle:
        handle.write(_png(image))
    base = path.with_suffix("")
    with open(f"{base}.jsonl", "x", encoding="utf-8") as session:
        session.write(json.dumps({"type": "meta", "version": SESSION_VERSION, **meta}) + "\n")
        for event in events:
            session.write(json.dumps(event.to_json()) + "\n")
    with open(f"{base}.json", "x", encoding="utf-8") as info:
        info.write(json.dumps({**meta, "image": path.name, "session": Path(f"{base}.jsonl").name}, indent=2) + "\n")
    if photo_result is not None:
        with open(f"{base}-photo.png", "xb") as photo:
            photo.write(_png(photo_result))
    return path


def _png(image: np.ndarray) -> bytes:
    """[H, W, 3] uint8 RGB -> PNG bytes."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"cannot encode a {image.dtype} {image.shape} image as PNG")
    return encoded.tobytes()
