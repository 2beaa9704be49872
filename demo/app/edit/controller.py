"""The edit and its engine requests (no GL, no pygame, no torch): what the app asks the worker for.

Session events go through ``apply`` (strokes into ``EditState``; fix/reset/pick into the request's
counters, by ``demo.engine.api.apply_command``, as the headless replay does). ``submit`` sends at
most one request per call (one per frame) when something changed, so the worker always works on
the newest edit; requests carry the strokes themselves (a few KB), and the worker rasterises them
at model resolution, so the window never rasterises for the solver. ``poll`` takes the newest
fresh result without blocking. Ignored commands and engine notices wait in ``take_notices()``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from demo.app.loop.timing import LatencyTracker
from demo.engine.api import EditRequest, EditResult, apply_command
from demo.tools.edit_state import EditState
from demo.tools.photo import centre_crop_resize
from demo.tools.session import Event


class EditController:
    def __init__(self, client, *, model: str, device: str = "auto", candidates: int | None = None, seed: int = 0,
                 steps: int = 40, top_k: int = 8, chunk_seconds: float = 1 / 60, morph_frames: int = 16,
                 display: bool = False):
        self.client = client
        self.state = EditState()
        self.latency = LatencyTracker()
        self.steps_after_edit = steps
        self.request = EditRequest(model=model, device=device, candidates=candidates, seed=seed, steps=steps,
                                   top_k=top_k, chunk_seconds=chunk_seconds, morph_frames=morph_frames, display=display)
        self.events: list[Event] = []  # every event applied, for saving the session
        self.session_start = 0  # the fresh start number at the first of ``events`` (a save's meta says it)
        self.result: EditResult | None = None  # newest good result
        self.error: str | None = None  # newest engine error, until a good result replaces it
        self.resolution: int | None = None
        self.photo: np.ndarray | None = None  # the loaded photo at full resolution
        self.auto_submit = True  # False while a replay decides when to submit
        self.submitted_stamp: int | None = None
        self.last: EditResult | None = None  # newest result of any kind
        self._dirty = True
        self._barrier = True
        self._photo_pending = False
        self._notices: list[str] = []
        self._device_told = False  # --device auto without a GPU runs on the CPU, and says so once

    # Edits.
    def apply(self, event: Event, *, at: float | None = None) -> str | None:
        """Apply a session event; ``at`` is when its input happened (for latency)."""
        self.events.append(event)
        command = self.state.apply(event)
        request = self.request
        if event.type == "command":
            shown = self.result.slots if self.result is not None else ()
            request = apply_command(request, event.name, index=event.index, shown_slots=shown,
                                    on_ignored=self._notices.append)
            if event.name == "reset":
                self._barrier = True
        self.request = request
        self._dirty = True
        if at is not None:
            self.latency.input(at)
        return command

    def fresh_session(self) -> None:
        """Start the session history over (what the next save holds); the edit on screen stays as it is."""
        self.events.clear()
        self.session_start = self.request.start

    def start_from(self, start: int) -> None:
        """Begin at fresh start number ``start`` (a saved session's, so that its replay starts where it did)."""
        self.request = dataclasses.replace(self.request, start=int(start))
        self.session_start = int(start)
        self._dirty = self._barrier = True

    def take_notices(self) -> list[str]:
        """Ignored commands and engine notices (e.g. K lowered after running out of GPU memory) since the last call."""
        notices, self._notices = self._notices, []
        return notices

    def shown_index(self) -> int:
        return 0 if self.result is None else int(self.result.current)

    def load_photo(self, photo: np.ndarray) -> None:
        """Project ``photo`` ([H, W, 3] uint8, any size) once the model's resolution is known."""
        self.photo = photo
        self._photo_pending = True
        self._dirty = True

    # Engine traffic.
    def submit(self, *, force: bool = False) -> int | None:
        """Send the current edit if it changed (``force``: even with auto_submit off). The stamp, or None."""
        if not self._dirty or not (self.auto_submit or force):
            return None
        request = dataclasses.replace(self.request, strokes=tuple(self.state.visible_strokes),
                                      strokes_version=self.state.version)
        # The photo is cut to the model's resolution, known from the first result.
        if self._photo_pending and self.resolution is not None:
            request = dataclasses.replace(request, photo=centre_crop_resize(self.photo, self.resolution),
                                          photo_version=request.photo_version + 1, pick=None)
            self._photo_pending = False
            self._barrier = True
        busy = bool(request.strokes) or request.photo is not None
        request = dataclasses.replace(request, steps=self.steps_after_edit if busy else 0)
        self.request = request
        stamp = self.client.submit(request, barrier=self._barrier)
        self._barrier = False
        self._dirty = False
        self.submitted_stamp = stamp
        self.latency.submitted(stamp)
        return stamp

    def poll(self) -> EditResult | None:
        """The newest fresh result (good or error), or None; never blocks."""
        result = self.client.poll()
        if result is None:
            return None
        self.last = result
        if result.notice:
            self._notices.append(result.notice)
        if result.error:
            self.error = result.error
            return result
        self.error = None
        self.result = result
        if not self._device_told and result.device:
            self._device_told = True
            if self.request.device == "auto" and result.device == "cpu":
                self._notices.append("no GPU found: running on the CPU (fewer candidates, slower)")
        self.latency.result(result.stamp, result.chunk_steps)
        if self.resolution is None:
            self.resolution = result.resolution
            if self._photo_pending:
                self._dirty = True
        return result

    @property
    def idle(self) -> bool:
        """Nothing left to send, and the newest request's budget is spent (or it failed)."""
        last = self.last
        if self._dirty or last is None or last.stamp != self.submitted_stamp:
            return False
        return last.error is not None or (last.steps_left == 0 and not last.projecting)

    def restart_worker(self) -> None:
        """Replace the worker (watchdog); the window and the edit stay, the last request is resent."""
        self.client.restart()
        self.latency.reset()

    def close(self) -> None:
        self.client.close()
