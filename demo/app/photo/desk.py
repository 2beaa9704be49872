"""The user's photo in the app: opened off the frame loop, projected by the engine, and shown with the
edit carried onto it (``PhotoEdit``). No tensors; ``tell`` puts notices on screen.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

from demo.app.edit.files import PhotoOpener
from demo.app.photo.edit import PhotoEdit


class PhotoDesk:
    def __init__(self, ctx, *, controller, tell: Callable[[str, str, float], None],
                 canvas_side: Callable[[], float] = lambda: 1024.0):
        self.ctx = ctx
        self.controller = controller
        self.tell = tell
        self.canvas_side = canvas_side  # the canvas's side on screen, in pixels: the photo is shown at that size
        self.opener = PhotoOpener(max_side=ctx.info.get("GL_MAX_TEXTURE_SIZE"))
        self.edit: PhotoEdit | None = None  # created with the first photo
        self.updates = 0  # times the photo view was drawn again with a new estimate (bench ui --photo counts them)

    def open(self, path: str | Path, *, wait: bool = False) -> None:
        """Decode a photo on a background thread (``wait``: here and now) and project it when it is ready."""
        self.opener.start(path)
        self.tell(f"opening {Path(path).name}...", "notice", 60.0)
        while wait and self.opener.busy:
            time.sleep(0.01)
        if wait:
            self.take_opened()

    def take_opened(self) -> bool:
        """Take a finished decode, if any: the photo goes to the engine and the photo view. True if one came."""
        done = self.opener.take()
        if done is None:
            return False
        photo, message = done
        if photo is None:
            self.tell(message, "error", 8.0)
            return True
        self.controller.load_photo(photo)
        if self.edit is None:
            self.edit = PhotoEdit(self.ctx)
        self.edit.fit_view(self.canvas_side())
        self.edit.set_photo(photo)
        scaled = f"; {self.edit.message}" if self.edit.message else ""
        self.tell(message + scaled, "notice", 4.0)
        return True

    def follow(self, result, *, now: float) -> None:
        """Carry a new result's edit onto the photo (in the background)."""
        if self.edit is not None and result.photo_image is not None and not result.projecting:
            self.edit.submit(result.photo_image, result.image, now=now, settled=result.steps_left == 0,
                             strokes=tuple(self.controller.state.visible_strokes))

    def upload(self) -> bool:
        """Upload a finished transfer; True if the shown photo changed (or an error was told)."""
        if self.edit is None:
            return False
        resized = self.edit.fit_view(self.canvas_side())  # the window was resized: the photo at the new size
        changed = self.edit.upload()
        self.updates += int(changed)
        changed |= resized
        if self.edit.error:
            self.tell(self.edit.error, "error", 8.0)
            self.edit.error = None
            changed = True
        return changed

    @property
    def ready(self) -> bool:
        """A photo is open, projected, and shown with its first estimate."""
        return self.edit is not None and self.edit.ready

    def shown(self, show_photo: bool):
        """(texture, uv) of the photo with the edit when the photo view is on and rendered, else None."""
        if show_photo and self.edit is not None and self.edit.ready:
            return self.edit.texture, self.edit.crop
        return None

    def close(self) -> None:
        if self.edit is not None:
            self.edit.close()
