"""The engine's contract: what a client asks for and what comes back (no torch, no GL).

``EditRequest`` describes the state the client wants (declarative, frozen); ``EditResult`` is what
came back (numpy only). State changes are keyed by counters, so dropping all but the newest
request loses no command: a bumped ``start`` restarts, a bumped ``fix`` re-centres, a new
``strokes_version`` re-rasterises ``strokes`` (in the worker, at model resolution). ``steps`` is
the explicit step budget of a request; the engine spends it in chunks sized to ``chunk_seconds``,
publishes a result after each chunk, and cuts a chunk short when a newer request is waiting.

``apply_command`` turns a session command into the next request: the one function the app's
controller and the headless replay both use. The engine itself is ``demo.engine.engine.Engine``;
clients (``demo.engine.worker``) share one interface: ``submit(request)`` and ``poll()``.
"""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from demo.tools.stroke import Stroke

# Stage names of ``EditResult.spans`` and ``timings``: the one list the worker writes and the profiler reads.
QUEUE_WAIT, RASTERISE, STEP, EVALUATE = "worker.queue_wait", "worker.rasterise", "worker.step", "worker.evaluate"
FORWARD, BACKWARD, ADAM, LOAD = "worker.forward", "worker.backward", "worker.adam", "worker.load"
DISPLAY, MORPH = "worker.display", "worker.morph"  # follow-ups after an edit settles
PER_STEP_STAGES = (FORWARD, BACKWARD, ADAM)  # each solver step runs these


@dataclass(frozen=True, kw_only=True)
class EditRequest:
    model: str  # name in models/ or a path
    device: str = "auto"
    candidates: int | None = None  # None: 8 on CPU, 64 on CUDA
    seed: int = 0
    start: int = 0  # bump to restart from a fresh random start (seed + start) or from start_z
    start_z: np.ndarray | None = None  # [nz] a projected photo's latent; candidates start around it
    strokes: tuple[Stroke, ...] = ()  # in painting order, the stroke in progress (if any) last
    strokes_version: int = 0  # bump whenever ``strokes`` change; the worker rasterises once per version
    fix: int = 0  # bump to re-centre z0 at candidate slot `pick` (or the best)
    pick: int | None = None  # slot shown as current; None follows the best
    steps: int = 40  # step budget for this request (iGAN ran 40 steps after the last edit)
    top_k: int = 8
    chunk_seconds: float = 1 / 30  # a result is published about this often while steps remain
    solver: dict = field(default_factory=dict)  # SolverConfig overrides, e.g. {"sketch_weight": 0.4}
    photo: np.ndarray | None = None  # [R, R, 3] uint8 photo at model resolution, to project (hybrid)
    photo_version: int = 0  # bump to project ``photo``; its latent becomes z0 and the start of the edit
    projection_steps: int = 100  # optimisation steps after the encoder, for the photo
    morph_frames: int = 0  # > 0: attach a z0 -> current morph of this many frames to results
    display: bool = False  # also send the shown image (and the morph) at display resolution, once settled
    stamp: int = 0  # generation stamp, set by the client
    sent_at: float = 0.0  # time.perf_counter() when the client submitted it (CLOCK_MONOTONIC on Linux)


@dataclass(frozen=True, kw_only=True)
class EditResult:
    stamp: int
    error: str | None = None
    notice: str | None = None  # something the user should know that is not an error (e.g. K was lowered)
    model_name: str = ""
    stand_in: bool = False
    resolution: int = 0
    device: str = ""
    candidates: int = 0  # K, the solver's batch
    steps_done: int = 0  # steps since the last start or fix
    steps_left: int = 0  # of this request's budget
    slots: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # [k] best first
    images: np.ndarray = field(default_factory=lambda: np.zeros((0, 0, 0, 3), np.uint8))  # [k, R, R, 3]
    losses: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # [k]
    color_rmse: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # [k] 0..255 units
    sketch_error: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # [k] HOG error
    z: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # [k, nz]
    z0: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), np.float32))  # [k, nz]
    current: int = 0  # index into the top-k arrays of the slot shown (picked or best)
    step_seconds: float = 0.0  # mean seconds per solver step (smoothed over chunks)
    chunk_steps: int = 0
    steps_total: int = 0  # every step the engine ran since it started (a counter, for steps/s)
    preempted: bool = False  # the chunk was cut short because a newer request was waiting
    compute_seconds: float = 0.0  # wall time of the whole chunk, evaluation included
    finished_at: float = 0.0  # time.perf_counter() on the engine side
    timings: dict[str, float] = field(default_factory=dict)  # stage -> seconds in this chunk (names above)
    spans: tuple[tuple[str, float, float], ...] = ()  # (stage, start, end) in time.perf_counter()
    worker_pid: int = 0
    worker_rss_mb: float = 0.0  # resident memory of the worker's process
    projecting: bool = False  # a photo projection is under way (images show its progress)
    progress: float = 1.0  # 0..1 of the photo projection
    photo_z: np.ndarray | None = None  # [nz] the projected photo's latent, once done
    photo_image: np.ndarray | None = None  # [R, R, 3] uint8 G(photo_z), the photo on the manifold
    morph: np.ndarray | None = None  # [N, R, R, 3] uint8 frames z0 -> current, when asked for
    display: np.ndarray | None = None  # [sR, sR, 3] uint8 the shown image upsampled for display, once settled
    morph_display: np.ndarray | None = None  # [N, sR, sR, 3] uint8 the morph at display resolution

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def image(self) -> np.ndarray:
        """The current image [R, R, 3] uint8."""
        return self.images[self.current]


class IgnoredCommand(UserWarning):
    """A session command that cannot apply (e.g. a pick of a thumbnail that is not shown)."""


def apply_command(
    request: EditRequest,
    name: str,
    *,
    index: int | None,
    shown_slots: Sequence[int],
    on_ignored: Callable[[str], None] | None = None,
) -> EditRequest:
    """The request after the session command ``name`` (pure: ``request`` is not changed).

    fix bumps ``fix``; reset bumps ``start`` and follows the best again; pick shows thumbnail
    ``index`` of ``shown_slots`` (the slots of the result on screen, best first). undo and redo
    change only the strokes, which the caller's ``EditState`` holds, so the counters stay.
    A pick of a thumbnail that does not exist is ignored: ``on_ignored`` gets one line saying so
    (by default, a ``IgnoredCommand`` warning).
    """
    if name == "fix":
        return dataclasses.replace(request, fix=request.fix + 1)
    if name == "reset":
        return dataclasses.replace(request, start=request.start + 1, pick=None)
    if name == "pick":
        if index is None or not 0 <= index < len(shown_slots):
            message = f"pick {index} ignored: there is no candidate {index} ({len(shown_slots)} are shown, from 0)"
            if on_ignored is None:
                warnings.warn(message, IgnoredCommand, stacklevel=2)
            else:
                on_ignored(message)
            return request
        return dataclasses.replace(request, pick=int(shown_slots[index]))
    if name in ("undo", "redo"):
        return request
    raise ValueError(f"unknown command {name!r}")
