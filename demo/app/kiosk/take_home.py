"""Take home: after a visitor saves, the picture's gallery page as a QR code, for ``qr_seconds``.

The URL is the gallery's base URL from the config and the save's random id (from its card, NAME.json),
never a path. Unattended saves (at a reset) show none: the kiosk does not ask for one then.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from demo.ops.qr import QrPicture, qr_picture
from demo.ops.settings import GallerySettings


def picture_id(path: Path) -> str | None:
    """The random id in the card beside a saved PNG, or None when it cannot be read."""
    try:
        card = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    picture = card.get("id") if isinstance(card, dict) else None
    return picture if isinstance(picture, str) and picture else None


class TakeHome:
    def __init__(self, settings: GallerySettings, *, clock: Callable[[], float]):
        self.settings = settings
        self.clock = clock
        self.shown: tuple[QrPicture, float] | None = None  # (code, until)
        self.codes_shown = 0

    def saved(self, path: Path) -> None:
        """A visitor saved ``path``: show its page's QR code (when the config has a gallery URL and QR on)."""
        if not self.settings.shows_qr:
            return
        picture = picture_id(path)
        if picture is None:
            return
        self.shown = (qr_picture(self.settings.picture_url(picture)), self.clock() + self.settings.qr_seconds)
        self.codes_shown += 1

    def current(self, now: float) -> QrPicture | None:
        if self.shown is not None and now >= self.shown[1]:
            self.shown = None
        return None if self.shown is None else self.shown[0]

    def clear(self) -> None:
        """A fresh start: the next visitor does not see the last one's code."""
        self.shown = None
