"""One read of a running app, for benches, the soak and an operator: no parts, no GL, nothing to reach into."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from demo.app.edit.ui_state import Notice
from demo.app.kiosk.kiosk import KioskCounts


@dataclass(frozen=True, kw_only=True)
class AppStatus:
    running: bool  # the window has not been asked to quit
    result: Any  # the newest EditResult shown (images included), or None before the first
    error: str | None  # the engine's error on screen, if any
    idle: bool  # the solver has spent its budget
    notice: Notice | None  # the banner's notice, if any
    frames: int  # frames run so far
    window_opened_at: float
    preview_at: float | None  # the model's start preview first on screen
    first_image_at: float | None  # the engine's first image first on screen
    first_image_frame: int | None
    worker_mode: str  # process, thread or sync
    vsync: bool
    solver_restarts: int  # by the watchdog
    autosave_writes: int
    kiosk: KioskCounts | None  # None outside kiosk mode

    @property
    def worker_pid(self) -> int:
        """The process the solver runs in, as its newest result says (0 before the first)."""
        return self.result.worker_pid if self.result is not None else 0
