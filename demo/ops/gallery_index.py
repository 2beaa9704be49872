"""The saved pictures of one or more save folders, as the gallery serves them: read-only, checked first.

A picture is a card (``NAME.json`` with a random ``id``, written by ``demo/app/edit/saving.py``) in the top
level of a save folder, beside its files (``NAME-display.jpg``, ``NAME.webp``, ``NAME.png``, ``NAME.jsonl``,
``NAME-photo.png``). Subfolders are never read: ``.autosave/`` and an operator's ``hidden/`` (move a
picture's files there to take it off the gallery). Hidden files (temporary ones start with '.'), symlinks,
names that are not UTF-8, cards over ``MAX_CARD_BYTES`` and cards that do not parse are skipped.

A file is served only by (id, kind), never by a name from a request: the name is the card's own stem and
a fixed suffix, opened without following symlinks, at most ``MAX_FILE_BYTES``, and only when its bytes
have the right start and end for its type (a truncated PNG or WebP is refused). A folder is listed again
only when its modification time changed (a save, a removal or a move in it), so an idle gallery does nothing.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

MAX_CARD_BYTES = 64 * 1024
MAX_FILE_BYTES = 32 * 1024 * 1024
REFRESH_SECONDS = 0.5  # a folder's modification time is looked at no more often than this
ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
KINDS = {  # kind -> (suffix, content type)
    "display": ("-display.jpg", "image/jpeg"),
    "animation": (".webp", "image/webp"),
    "image": (".png", "image/png"),
    "session": (".jsonl", "application/x-ndjson; charset=utf-8"),
    "photo": ("-photo.png", "image/png"),
}


class Refused(Exception):
    """A file the gallery will not serve; ``status`` is the HTTP status to answer with (4xx)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass(frozen=True)
class Picture:
    id: str
    station: str
    saved_at: float
    folder: Path
    name: str  # the card's stem
    kinds: tuple[str, ...]  # the kinds of file present beside the card (when it was listed)


def _utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # a name that was not UTF-8 on disk (surrogate escapes)
        return False
    return True


class GalleryIndex:
    def __init__(self, folders: list[Path], *, publish_photos: bool = False, clock=time.monotonic):
        self.folders = [Path(folder) for folder in folders]
        self.publish_photos = publish_photos
        self.clock = clock
        self.version = 0  # goes up whenever the list of pictures changes
        self._stamps: dict[Path, int] = {}
        self._listed: dict[Path, list[Picture]] = {}
        self._cards: dict[tuple[Path, str], tuple[int, int, Picture | None]] = {}  # (folder, name) -> (mtime, size, card)
        self._pictures: list[Picture] = []
        self._by_id: dict[str, Picture] = {}
        self._checked_at = float("-inf")

    def refresh(self, *, force: bool = False) -> bool:
        """List again every folder whose modification time changed; True if the pictures changed."""
        now = self.clock()
        if not force and now - self._checked_at < REFRESH_SECONDS:
            return False
        self._checked_at = now
        changed = False
        for folder in self.folders:
            try:
                stamp = folder.stat().st_mtime_ns
            except OSError:
                stamp = -1
            if self._stamps.get(folder) != stamp:
                self._stamps[folder] = stamp
                self._listed[folder] = self._list(folder) if stamp >= 0 else []
                changed = True
        if changed:
            pictures = sorted((p for listed in self._listed.values() for p in listed), key=lambda p: -p.saved_at)
            by_id: dict[str, Picture] = {}
            for picture in pictures:
                by_id.setdefault(picture.id, picture)  # the same id twice (a copied folder): the newest wins
            if [p.id for p in pictures] != [p.id for p in self._pictures] or by_id != self._by_id:
                self.version += 1
            self._pictures, self._by_id = [p for p in pictures if by_id[p.id] is p], by_id
        return changed

    def pictures(self) -> list[Picture]:
        """Newest first."""
        return self._pictures

    def get(self, picture_id: str) -> Picture | None:
        return self._by_id.get(picture_id) if ID_PATTERN.fullmatch(picture_id) else None

    def _list(self, folder: Path) -> list[Picture]:
        try:
            entries = {entry.name: entry for entry in os.scandir(folder)
                       if not entry.name.startswith(".") and _utf8(entry.name) and entry.is_file(follow_symlinks=False)}
        except OSError:
            return []
        pictures = []
        for name, entry in entries.items():
            if not name.endswith(".json"):
                continue
            info = entry.stat(follow_symlinks=False)
            key = (folder, name)
            cached = self._cards.get(key)
            if cached is None or cached[:2] != (info.st_mtime_ns, info.st_size):
                cached = (info.st_mtime_ns, info.st_size, self._card(folder, name, info))
                self._cards[key] = cached
            card = cached[2]
            if card is not None:
                stem = name[: -len(".json")]
                kinds = tuple(kind for kind, (suffix, _) in KINDS.items() if stem + suffix in entries)
                pictures.append(Picture(card.id, card.station, card.saved_at, folder, stem, kinds))
        for key in [key for key in self._cards if key[0] == folder and key[1] not in entries]:
            del self._cards[key]  # forget cards that are gone: the cache stays as big as the folder
        return pictures

    @staticmethod
    def _card(folder: Path, name: str, info: os.stat_result) -> Picture | None:
        """The card's id, station and time, or None when it is not a gallery card."""
        if info.st_size > MAX_CARD_BYTES:
            return None
        try:
            card = json.loads(_read(folder / name, limit=MAX_CARD_BYTES).decode("utf-8"))
        except (OSError, ValueError, Refused):
            return None
        if not isinstance(card, dict) or not isinstance(card.get("id"), str) or not ID_PATTERN.fullmatch(card["id"]):
            return None
        station = card.get("station") if isinstance(card.get("station"), str) else ""
        saved_at = card.get("saved_at")
        if not isinstance(saved_at, (int, float)) or isinstance(saved_at, bool):
            saved_at = info.st_mtime
        return Picture(card["id"], station[:64], float(saved_at), folder, name[: -len(".json")], ())

    def read(self, picture: Picture, kind: str) -> tuple[bytes, str]:
        """The bytes of one of a picture's files and its content type; ``Refused`` with a 4xx status if not."""
        if kind not in KINDS or (kind == "photo" and not self.publish_photos):
            raise Refused(404, "no such file")
        suffix, content_type = KINDS[kind]
        data = _read(picture.folder / (picture.name + suffix), limit=MAX_FILE_BYTES)
        if not _complete(kind, data):
            raise Refused(422, "the file is damaged")
        return data, content_type


def _read(path: Path, *, limit: int) -> bytes:
    """A regular file's bytes, never through a symlink, refused past ``limit`` bytes."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise Refused(404, "no such file") from None
    except OSError:
        raise Refused(403, "not a plain file") from None  # a symlink (ELOOP), a folder, no permission
    try:
        info = os.fstat(handle)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(403, "not a plain file")
        if info.st_size > limit:
            raise Refused(413, "the file is too large")
        with os.fdopen(handle, "rb", closefd=False) as stream:
            data = stream.read(limit + 1)
    finally:
        os.close(handle)
    if len(data) > limit:
        raise Refused(413, "the file is too large")
    return data


def _complete(kind: str, data: bytes) -> bool:
    """Whether ``data`` starts and ends as a whole file of its kind does."""
    if kind in ("image", "photo"):
        return data.startswith(b"\x89PNG\r\n\x1a\n") and data.endswith(b"IEND\xaeB`\x82")
    if kind == "display":
        return data.startswith(b"\xff\xd8") and data.rstrip(b"\x00").endswith(b"\xff\xd9")
    if kind == "animation":
        return (len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP"
                and int.from_bytes(data[4:8], "little") + 8 == len(data))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
