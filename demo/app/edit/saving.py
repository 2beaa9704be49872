"""Saving the result: PNG + display JPEG + session + card, atomically, never overwriting an earlier save.

Each file is written whole to a hidden temporary file in the save folder and fsync'd; only then are they
put in place under their final names, the PNG first, none replacing an existing file (``demo.safe_files``:
a hard link that fails if the name exists, or a rename after checking it is free). A save that fails
part way (disk full, no permission) leaves no partial files behind and raises ``OSError``, which the app
shows as a notice; one killed part way leaves at most hidden temporary files (``.igan.*.tmp``), which a
later save removes once they are old and their writer is gone.

Each save's card (NAME.json) carries a random ``id`` (what the gallery puts in its URLs, never a path) and
the ``station`` that made it, which also prefixes the name (``igan-STATION-YYYYmmdd-HHMMSS``) so that
stations sharing a folder never compete for names. The edit's animation (``NAME.webp``) is written after
the rest, off the UI thread (``demo.ops.animation``); a gallery shows the picture without it meanwhile.
"""

from __future__ import annotations

import errno
import json
import re
import secrets
import time
from pathlib import Path

import cv2
import numpy as np

from demo.safe_files import publish, write_new_temp
from demo.tools.session import SESSION_VERSION, Event

SUFFIXES = (".png", "-display.jpg", ".jsonl", ".json", "-photo.png", ".webp")  # NAME + suffix, in publishing order
TEMP_LABEL = "igan"
ID_BYTES = 12  # 96 random bits: a picture's URL cannot be guessed from another's


def station_slug(station: str) -> str:
    """The part of a station's name that may go into a file name: letters, digits, '-' and '_' (at most 32)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "-", station).strip("-")[:32]


def save_result(folder: str | Path, *, image: np.ndarray, events: list[Event], meta: dict,
                photo_result: np.ndarray | None = None, display: np.ndarray | None = None,
                now: float | None = None) -> Path:
    """Write NAME.png (the result at full model resolution), NAME-display.jpg (at display size, when given),
    NAME.jsonl (the session, replayable with --replay), NAME.json (id, station, model, seed, device,
    losses...) and NAME-photo.png (the photo with the edit, when one is loaded). Returns the PNG's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    slug = station_slug(str(meta.get("station") or ""))
    stem = time.strftime(f"igan-{slug + '-' if slug else ''}%Y%m%d-%H%M%S", time.localtime(now))
    session = "".join(json.dumps(line) + "\n" for line in
                      [{"type": "meta", "version": SESSION_VERSION, **meta}, *(event.to_json() for event in events)])
    contents = {".png": _png(image), ".jsonl": session.encode("utf-8")}
    if display is not None:
        contents["-display.jpg"] = _encoded(display, ".jpg")
    if photo_result is not None:
        contents["-photo.png"] = _png(photo_result)
    temps: dict[str, Path] = {}
    try:
        for suffix, data in contents.items():
            temps[suffix] = write_new_temp(folder, data, label=TEMP_LABEL)
        for n in range(10000):
            name = stem if n == 0 else f"{stem}-{n}"
            if any((folder / f"{name}{suffix}").exists() for suffix in SUFFIXES):
                continue
            info = {**meta, "id": secrets.token_urlsafe(ID_BYTES), "saved_at": time.time() if now is None else now,
                    "image": f"{name}.png", "session": f"{name}.jsonl"}
            if ".json" in temps:
                temps.pop(".json").unlink(missing_ok=True)
            temps[".json"] = write_new_temp(folder, (json.dumps(info, indent=2) + "\n").encode("utf-8"), label=TEMP_LABEL)
            if publish([(temps[suffix], folder / f"{name}{suffix}") for suffix in sorted(temps, key=SUFFIXES.index)]):
                return folder / f"{name}.png"
        raise FileExistsError(errno.EEXIST, f"no free name for {stem}", str(folder))
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


def _png(image: np.ndarray) -> bytes:
    """[H, W, 3] uint8 RGB -> PNG bytes."""
    return _encoded(image, ".png")


def _encoded(image: np.ndarray, suffix: str) -> bytes:
    """[H, W, 3] uint8 RGB -> the bytes of an image file of that suffix (.png, .jpg at quality 92)."""
    options = [cv2.IMWRITE_JPEG_QUALITY, 92] if suffix == ".jpg" else []
    ok, encoded = cv2.imencode(suffix, cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR), options)
    if not ok:
        raise ValueError(f"cannot encode a {image.dtype} {image.shape} image as {suffix}")
    return encoded.tobytes()
