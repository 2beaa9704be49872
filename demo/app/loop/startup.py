"""When the window first showed something: the start preview, then the engine's first image.

``presented`` is called after every presented frame. The first frame marks the preview (the engine's
first image as shipped with the model, on screen while the worker still imports torch); the first
frame that shows a generated image (not a photo's projection in progress) marks the first image.
Listeners hear ``("preview" | "first_image", t)`` once each: the profiler, a live feeder that starts
feeding its session only once there is an image to paint on.
"""

from __future__ import annotations

from collections.abc import Callable


class StartupMarks:
    def __init__(self, *, clock, preview_pending: bool):
        self.clock = clock
        self.preview_pending = preview_pending
        self.preview_at: float | None = None  # when the start preview was first on screen
        self.first_image_at: float | None = None  # when the engine's first image was first on screen
        self.first_image_frame: int | None = None  # the frame that first showed it
        self.listeners: list[Callable[[str, float], None]] = []

    def presented(self, index: int, result) -> None:
        """Frame ``index`` is on screen, showing ``result`` (or none yet)."""
        if self.preview_pending:
            self.preview_pending = False
            self.preview_at = self.clock()
            self._tell("preview", self.preview_at)
        if self.first_image_frame is None and result is not None and len(result.images) and not result.projecting:
            self.first_image_frame = index
            self.first_image_at = self.clock()
            self._tell("first_image", self.first_image_at)

    def frames_after_first_image(self, index: int) -> int | None:
        """How many frames, this one included, have been presented since the first image (None before it)."""
        return None if self.first_image_frame is None else index - self.first_image_frame + 1

    def _tell(self, mark: str, t: float) -> None:
        for listener in self.listeners:
            listener(mark, t)
