"""Saving the result: PNG + session + model name, atomically, never overwriting an earlier save.

Each file is written whole to a temporary file in the save folder and fsync'd; only then is it put in
place under its final name, by a hard link that fails rather than replace an existing file (or, where
the file system has no hard links, a rename after checking the name is free). A save that fails part
way (disk full, no permission) leaves no partial files behind and raises ``OSError``, which the app
shows as a notice.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from demo.temp_files import give_plain_mode
from demo.tools.session import SESSION_VERSION, Event

SUFFIXES = (".png", ".jsonl", ".json", "-photo.png")  # one save's files: NAME + suffix


def save_result(folder: str | Path, *, image: np.ndarray, events: list[Event], meta: dict,
                photo_result: np.ndarray | None = None, now: float | None = None) -> Path:
    """Write NAME.png (the result at full model resolution), NAME.jsonl (the session, replayable with
    --replay), NAME.json (model, seed, device, losses...) and NAME-photo.png (the photo with the edit,
    when one is loaded). Returns the PNG's path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = time.strftime("igan-%Y%m%d-%H%M%S", time.localtime(now))
    session = "".join(json.dumps(line) + "\n" for line in
                      [{"type": "meta", "version": SESSION_VERSION, **meta}, *(event.to_json() for event in events)])
    contents = {".png": _png(image), ".jsonl": session.encode("utf-8")}
    if photo_result is not None:
        contents["-photo.png"] = _png(photo_result)
    temps: dict[str, Path] = {}
    try:
        for suffix, data in contents.items():
            temps[suffix] = write_synced_temp(folder, data)
        for n in range(10000):
            name = stem if n == 0 else f"{stem}-{n}"
            if any((folder / f"{name}{suffix}").exists() for suffix in SUFFIXES):
                continue
            info = {**meta, "image": f"{name}.png", "session": f"{name}.jsonl"}
            if ".json" in temps:
                temps.pop(".json").unlink(missing_ok=True)
            temps[".json"] = write_synced_temp(folder, (json.dumps(info, indent=2) + "\n").encode("utf-8"))
            if _publish(folder, name, temps):
                return folder / f"{name}.png"
        raise FileExistsError(errno.EEXIST, f"no free name for {stem}", str(folder))
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


def write_synced_temp(folder: Path, data: bytes) -> Path:
    """``data`` in a new temporary file in ``folder``, flushed to disk; removed again if that fails."""
    handle, name = tempfile.mkstemp(dir=folder, prefix=".igan-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            give_plain_mode(name)
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)


def _publish(folder: Path, name: str, temps: dict[str, Path]) -> bool:
    """Give each temp file its final name ``name + suffix``, the PNG first; none replaces an existing file.

    False if a concurrent save took the name first (nothing of ours is left under it then).
    """
    placed: list[Path] = []
    try:
        for suffix in sorted(temps, key=SUFFIXES.index):
            target = folder / f"{name}{suffix}"
            try:
                place_without_overwriting(temps[suffix], target)
            except FileExistsError:
                for path in placed:
                    path.unlink(missing_ok=True)
                return False
            placed.append(target)
        _sync_folder(folder)
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        raise
    return True


def place_without_overwriting(source: Path, target: Path) -> None:
    """Give ``source`` the name ``target`` atomically; FileExistsError if ``target`` exists."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
        # No hard links here (FAT, some network shares): rename, after checking the name is free.
        if target.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        os.rename(source, target)


def _sync_folder(folder: Path) -> None:
    """Flush the folder's entries, so the new names survive a power cut (where the OS allows it)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # Some file systems cannot fsync a folder; the files themselves are synced.
    finally:
        os.close(descriptor)


def _png(image: np.ndarray) -> bytes:
    """[H, W, 3] uint8 RGB -> PNG bytes."""
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError(f"cannot encode a {image.dtype} {image.shape} image as PNG")
    return encoded.tobytes()
