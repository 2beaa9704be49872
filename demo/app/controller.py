"""The edit and its engine requests (no GL, no pygame, no torch): what the app asks the worker for.

Session events go through ``apply`` (strokes into ``EditState``; fix/reset/pick into the request's
counters). ``submit`` sends at most one request per call (one per frame) when something changed, so
the worker always works on the newest edit; ``poll`` takes the newest fresh result without blocking.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from demo.app.raster import IncrementalConstraints
from demo.app.timing import LatencyTracker
from demo.engine.api import EditRequest, EditResult
from demo.tools.edit_state import EditState
from demo.tools.photo import centre_crop_resize
from demo.tools.session import Event


class EditController:
    def __init__(self, client, *, model: str, device: str = "auto", candidates: int | None = None, seed: int = 0,
                 steps: int = 40, top_k: int = 8, chunk_seconds: float = 1 / 60, morph_frames: int = 16):
        self.client = client
        self.state = EditState()
        self.raster = IncrementalConstraints()
        self.latency = LatencyTracker()
        self.steps_after_edit = steps
        self.request = EditRequest(model=model, device=device, candidates=candidates, seed=seed, steps=steps,
                                   top_k=top_k, chunk_seconds=chunk_seconds, morph_frames=morph_frames)
        self.events: list[Event] = []  # every event applied, for saving the session
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

    # Edits.
    def apply(self, event: Event, *, at: float | None = None) -> str | None:
        """Apply a session event; ``at`` is when its input happened (for latency)."""
        self.events.append(event)
        command = self.state.apply(event)
        request = self.request
        if command == "fix":
            request = dataclasses.replace(request, fix=request.fix + 1)
        elif command == "reset":
            request = dataclasses.replace(request, start=request.start + 1, pick=None)
            self._barrier = True
        elif command == "pick":
            slot = self.slot_at(event.index)
            if slot is None:
                return command
            request = dataclasses.replace(request, pick=slot)
        self.request = request
        self._dirty = True
        if at is not None:
            self.latency.input(at)
        return command

    def slot_at(self, index: int | None) -> int | None:
        """The candidate slot shown as thumbnail ``index`` (None if there is no such thumbnail)."""
        if self.result is None or index is None or not 0 <= index < len(self.result.slots):
            return None
        return int(self.result.slots[index])

    def shown_index(self) -> int:
        return 0 if self.result is None else int(self.result.current)

    def load_photo(self, photo: np.ndarray) -> None:
        """Project ``photo`` ([H, W, 3] uint8, any size) once the model's resolution is known."""
        self.photo = photo
        self._photo_pending = True
        self._dirty = True

    # Engine traffic.
    def request_submit(self) -> None:
        self._dirty = True

    @property
    def dirty(self) -> bool:
        return self._dirty

    def submit(self, *, force: bool = False) -> int | None:
        """Send the current edit if it changed (``force``: even with auto_submit off). The stamp, or None."""
        if not self._dirty or not (self.auto_submit or force):
            return None
        if self.resolution is None and self.submitted_stamp is not None:
            return None  # The first request (loading the model) tells us the resolution; wait for it.
        request = self.request
        if self.resolution is not None:
            constraints = self.raster.constraints(self.state, self.resolution)
            if self._photo_pending:
                request = dataclasses.replace(request, photo=centre_crop_resize(self.photo, self.resolution),
                                              photo_version=request.photo_version + 1, pick=None)
                self._photo_pending = False
                self._barrier = True
            busy = not constraints.is_empty or request.photo is not None
            request = dataclasses.replace(request, constraints=constraints, steps=self.steps_after_edit if busy else 0)
        else:
            request = dataclasses.replace(request, steps=0)
        self.request = dataclasses.replace(request, constraints=None)
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
        if result.error:
            self.error = result.error
            return result
        self.error = None
        self.result = result
        self.latency.result(result.stamp, result.chunk_steps)
        if self.resolution is None:
            self.resolution = result.resolution
            if self.state.version or self._photo_pending:
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
