"""One engine API in sync and async mode.

``EditRequest`` describes the state the client wants (declarative, frozen); ``EditResult`` is what
came back (numpy only). State changes are keyed by counters, so dropping all but the newest
request loses no command: a bumped ``start`` restarts, a bumped ``fix`` re-centres, a new
``constraints.version`` re-rasterises. ``steps`` is the explicit step budget of a request; the
engine spends it in chunks sized to ``chunk_seconds`` and publishes a result after each chunk.

Clients (see ``demo.engine.worker``) share one interface: ``submit(request)`` and ``poll()``.
"""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

import numpy as np

from demo.tools.constraints import Constraints


@dataclass(frozen=True, kw_only=True)
class EditRequest:
    model: str  # name in models/ or a path
    device: str = "auto"
    candidates: int | None = None  # None: 8 on CPU, 64 on CUDA
    seed: int = 0
    start: int = 0  # bump to restart from a fresh random start (seed + start) or from start_z
    start_z: np.ndarray | None = None  # [nz] a projected photo's latent; candidates start around it
    constraints: Constraints | None = None
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
    stamp: int = 0  # generation stamp, set by the client


@dataclass(frozen=True, kw_only=True)
class EditResult:
    stamp: int
    error: str | None = None
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
    step_seconds: float = 0.0  # mean seconds per solver step in the last chunk
    chunk_steps: int = 0
    compute_seconds: float = 0.0  # wall time of the whole chunk, evaluation included
    finished_at: float = 0.0  # time.perf_counter() on the engine side
    projecting: bool = False  # a photo projection is under way (images show its progress)
    progress: float = 1.0  # 0..1 of the photo projection
    photo_z: np.ndarray | None = None  # [nz] the projected photo's latent, once done
    photo_image: np.ndarray | None = None  # [R, R, 3] uint8 G(photo_z), the photo on the manifold
    morph: np.ndarray | None = None  # [N, R, R, 3] uint8 frames z0 -> current, when asked for

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def image(self) -> np.ndarray:
        """The current image [R, R, 3] uint8."""
        return self.images[self.current]


class Engine:
    """The synchronous engine: owns the model and the solver; never raises into the client."""

    def __init__(self) -> None:
        self.request: EditRequest | None = None
        self.steps_left = 0
        self._solver = None
        self._model_key: tuple | None = None
        self._start_key: tuple | None = None
        self._fix = 0
        self._step_seconds = 0.0
        self._last_order: np.ndarray | None = None
        self._photo_version = 0
        self._projecting = None  # iterator of a photo projection under way
        self._projection_steps = 0
        self._photo = None  # the finished Projection of the loaded photo
        self._morph_key: tuple | None = None
        self._morph: np.ndarray | None = None

    @property
    def busy(self) -> bool:
        return self.request is not None and (self.steps_left > 0 or self._projecting is not None)

    def submit(self, request: EditRequest) -> None:
        """Take a new request; it replaces the previous one and its remaining budget."""
        self.request = request
        self.steps_left = max(0, request.steps)

    def run(self, max_steps: int | None = None) -> EditResult | None:
        """Apply the current request and spend one chunk of its budget. None if nothing was asked."""
        request = self.request
        if request is None:
            return None
        try:
            return self._run(request, max_steps)
        except Exception as exc:  # noqa: BLE001 - every engine failure becomes result.error
            self.steps_left = 0
            message = f"{type(exc).__name__}: {exc}"
            return EditResult(stamp=request.stamp, error=message + "\n" + traceback.format_exc(limit=6),
                              finished_at=time.perf_counter())

    def _run(self, request: EditRequest, max_steps: int | None) -> EditResult:
        import torch

        from demo.engine.checkpoint import load_model
        from demo.engine.device import pick_device
        from demo.engine.solver import ConstraintSolver, SolverConfig, default_candidates

        started = time.perf_counter()
        device = pick_device(request.device)
        candidates = request.candidates or default_candidates(device)
        config = SolverConfig(**request.solver)
        model_key = (request.model, str(device), candidates, config)
        start_key = (request.start, request.seed)
        # Load the model / rebuild the solver when they change.
        if model_key != self._model_key:
            self._solver = None
            self._model_key = None
            model = load_model(request.model, device=device)
            self._solver = ConstraintSolver(model, candidates=candidates, device=device, config=config,
                                            seed=request.seed + request.start, start_z=self._start_z(request))
            self._model_key, self._start_key, self._fix = model_key, start_key, request.fix
            self._photo_version, self._photo, self._projecting = 0, None, None
        solver = self._solver
        # Project a newly loaded photo, a chunk at a time; its latent becomes the start.
        if request.photo is not None and request.photo_version != self._photo_version:
            self._begin_projection(request, solver)
        if self._projecting is not None:
            progress = self._continue_projection(request, solver)
            if progress is not None:
                return progress
        if start_key != self._start_key:
            solver.reset(seed=request.seed + request.start, start_z=self._start_z(request))
            self._start_key, self._fix = start_key, request.fix
        if request.fix != self._fix:
            solver.fix(self._current_slot(request))
            self._fix = request.fix
        if request.constraints is not None:
            solver.set_constraints(request.constraints)
        # Spend a chunk of the budget sized to chunk_seconds.
        chunk = 0
        if self.steps_left > 0:
            per_step = self._step_seconds or 0.02
            chunk = max(1, min(self.steps_left, int(request.chunk_seconds / per_step)))
            if max_steps is not None:
                chunk = max(0, min(chunk, max_steps))
        if chunk:
            t0 = time.perf_counter()
            solver.step(chunk)
            if device.type == "cuda":
                torch.cuda.synchronize()
            measured = (time.perf_counter() - t0) / chunk
            self._step_seconds = measured if not self._step_seconds else 0.7 * self._step_seconds + 0.3 * measured
            self.steps_left -= chunk
        ranking = solver.evaluate()
        self._last_order = ranking.order
        top = ranking.order[: max(1, request.top_k)]
        current_slot = self._current_slot(request)
        if current_slot not in top:
            top = np.concatenate([top[:-1], [current_slot]]) if len(top) > 1 else np.array([current_slot])
        card = solver.model.card
        current = int(np.flatnonzero(top == current_slot)[0])
        return EditResult(
            stamp=request.stamp,
            model_name=card.name,
            stand_in=card.stand_in,
            resolution=card.resolution,
            device=str(device),
            candidates=solver.candidates,
            steps_done=solver.steps_done,
            steps_left=self.steps_left,
            slots=top.copy(),
            images=ranking.images[top],
            losses=ranking.loss[top],
            color_rmse=ranking.color_rmse[top],
            sketch_error=ranking.sketch_error[top],
            z=ranking.z[top],
            z0=ranking.z0[top],
            current=current,
            step_seconds=self._step_seconds,
            chunk_steps=chunk,
            compute_seconds=time.perf_counter() - started,
            finished_at=time.perf_counter(),
            photo_z=None if self._photo is None else self._photo.z,
            photo_image=None if self._photo is None else self._photo.image,
            morph=self._morph_frames(request, solver, ranking.z0[current_slot], ranking.z[current_slot]),
        )

    def _start_z(self, request: EditRequest) -> np.ndarray | None:
        """An explicit start latent, else the loaded photo's, else None (a random start)."""
        if request.start_z is not None:
            return request.start_z
        return self._photo.z if (self._photo is not None and request.photo is not None) else None

    def _begin_projection(self, request: EditRequest, solver) -> None:
        from demo.engine.projection import iter_projection

        self._photo_version = request.photo_version
        self._photo = None
        method = "hybrid" if solver.model.E is not None else "opt"
        self._projection_steps = request.projection_steps
        self._projecting = iter_projection(solver.model, request.photo, method=method,
                                           steps=request.projection_steps, seed=request.seed)

    def _continue_projection(self, request: EditRequest, solver) -> EditResult | None:
        """Advance the projection by about ``chunk_seconds``; a progress result, or None once done."""
        started = time.perf_counter()
        preview = None
        done = 0
        try:
            while time.perf_counter() - started < request.chunk_seconds:
                done, image = next(self._projecting)
                preview = image if image is not None else preview
        except StopIteration as stop:
            self._photo = stop.value
            self._projecting = None
            solver.reset(seed=request.seed + request.start, start_z=self._photo.z)
            self._start_key, self._fix = (request.start, request.seed), request.fix
            self._last_order = None
            return None
        card = solver.model.card
        images = np.zeros((1, card.resolution, card.resolution, 3), np.uint8) if preview is None else preview[None]
        return EditResult(
            stamp=request.stamp, model_name=card.name, stand_in=card.stand_in, resolution=card.resolution,
            device=str(solver.device), steps_left=self.steps_left, images=images,
            slots=np.zeros(1, np.int64), losses=np.zeros(1, np.float32), color_rmse=np.zeros(1, np.float32),
            projecting=True, progress=done / max(1, self._projection_steps),
            compute_seconds=time.perf_counter() - started, finished_at=time.perf_counter(),
        )

    def _morph_frames(self, request: EditRequest, solver, z0: np.ndarray, z1: np.ndarray) -> np.ndarray | None:
        """z0 -> current in ``morph_frames`` frames, rendered once per finished request."""
        if request.morph_frames <= 0 or self.steps_left > 0:
            return None
        key = (request.stamp, request.morph_frames)
        if key != self._morph_key:
            from demo.engine.interpolate import render_morph

            self._morph = render_morph(solver.G, z0, z1, frames=request.morph_frames, prior=solver.model.card.prior)
            self._morph_key = key
        return self._morph

    def _current_slot(self, request: EditRequest) -> int:
        if request.pick is not None and 0 <= request.pick < self._solver.candidates:
            return int(request.pick)
        return int(self._last_order[0]) if self._last_order is not None else 0
