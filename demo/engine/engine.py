"""The synchronous engine behind every client: owns the model and the solver; never raises into the client.

``submit`` takes the newest request (it replaces the previous one and its budget); ``run`` applies
it and spends one chunk of its step budget, then publishes an ``EditResult``. The strokes are
rasterised here, once per ``strokes_version``, incrementally (``demo.tools.raster``). A chunk stops
early when ``should_stop()`` says a newer request is waiting (checked between solver steps), so a
new stroke waits for at most one step. Each result carries the chunk's stage timings and spans
(``api.QUEUE_WAIT`` ... ``api.EVALUATE``) for the profiler. CUDA running out of memory halves K,
keeps the best candidates and carries on, with a notice in the result. A loaded photo is projected
a chunk at a time first (``photo_projection.py``); its latent becomes the start.

torch is imported on first use, so the window process can import this module without loading it.
"""

from __future__ import annotations

import inspect
import os
import time
import traceback
from typing import Callable

import numpy as np

from demo.engine.api import EVALUATE, LOAD, QUEUE_WAIT, RASTERISE, EditRequest, EditResult
from demo.engine.chunk import run_chunk
from demo.engine.follow_ups import FollowUps
from demo.engine.photo_projection import PhotoProjection
from demo.engine.stages import Stages, resident_mb
from demo.tools.constraints import Constraints
from demo.tools.raster import IncrementalRaster


class Engine:
    """The synchronous engine; ``solver_factory`` (default ``ConstraintSolver``) is for fault injection in tests."""

    def __init__(self, *, solver_factory: Callable | None = None) -> None:
        self.request: EditRequest | None = None
        self.steps_left = 0
        self.steps_total = 0  # every solver step this engine ran (a counter: steps/s between two results)
        self._solver_factory = solver_factory
        self._solver = None
        self._solver_stops = False  # its step() takes should_stop
        self._model_key: tuple | None = None
        self._start_key: tuple | None = None
        self._fix = 0
        self._raster = IncrementalRaster()
        self._constraints: Constraints | None = None
        self._strokes_version: int | None = None  # of the constraints the solver has
        self._received_at: float | None = None  # when the current request was taken; None once reported
        self._first_chunk = False  # the current request has not stepped yet
        self._step_seconds = 0.0
        self._last_order: np.ndarray | None = None
        self._photo = PhotoProjection()
        self._follow_ups = FollowUps()  # display image and morph of a finished request

    @property
    def busy(self) -> bool:
        return self.request is not None and (self.steps_left > 0 or self._photo.running
                                             or self._follow_ups.pending)

    def submit(self, request: EditRequest, *, received_at: float | None = None) -> None:
        """Take a new request; it replaces the previous one and its remaining budget."""
        self.request = request
        self.steps_left = max(0, request.steps)
        self._received_at = time.perf_counter() if received_at is None else received_at
        self._first_chunk = True
        self._follow_ups.drop()  # the newer request wins; follow-ups for the old one would delay it

    def run(self, max_steps: int | None = None, *, should_stop: Callable[[], bool] | None = None) -> EditResult | None:
        """Apply the current request and spend one chunk of its budget.

        None if nothing was asked, or if ``should_stop`` cut the chunk before its first step (a newer
        request is waiting, and a result for this one would only delay it).
        """
        request = self.request
        if request is None:
            return None
        stages = Stages()
        if self._received_at is not None and request.sent_at:
            stages.add(QUEUE_WAIT, request.sent_at, self._received_at)
        self._received_at = None
        try:
            if self._follow_ups.pending:
                return self._follow_ups.next(request, self._solver, stages)
            return self._run(request, max_steps, should_stop, stages)
        except Exception as exc:  # noqa: BLE001 - every engine failure becomes result.error
            self.steps_left = 0
            message = f"{type(exc).__name__}: {exc}"
            return EditResult(stamp=request.stamp, error=message + "\n" + traceback.format_exc(limit=6),
                              finished_at=time.perf_counter(), worker_pid=os.getpid())

    def _run(self, request: EditRequest, max_steps: int | None, should_stop, stages: Stages) -> EditResult | None:
        import torch

        from demo.engine.device import pick_device

        started = time.perf_counter()
        device = pick_device(request.device)
        self._ensure_solver(request, device, stages)
        solver = self._solver
        # Project a newly loaded photo, a chunk at a time; its latent becomes the start.
        if self._photo.wanted(request):
            self._photo.begin(request, solver.model)
        if self._photo.running:
            progress = self._photo.advance(request, solver, steps_left=self.steps_left)
            if progress is not None:
                return progress
            self._restart(request, seed=request.seed + request.start, start_z=self._photo.projection.z)
        if (request.start, request.seed) != self._start_key:
            self._restart(request, seed=_start_seed(request, solver.model.card), start_z=self._start_z(request))
        if request.fix != self._fix:
            solver.fix(self._current_slot(request))
            self._fix = request.fix
        self._rasterise(request, stages)
        notices = []
        while True:
            try:
                chunk, stopped = self._spend_chunk(request, max_steps, should_stop, stages, device)
                if stopped and not chunk:
                    return None
                return self._result(request, stages, started, chunk, stopped, notices)
            except torch.cuda.OutOfMemoryError:
                if self._solver.candidates <= 1:
                    raise
            # Out here the failed step's traceback, and the tensors it holds, are already released.
            notices.append(self._shrink(request, device))

    def _restart(self, request: EditRequest, *, seed: int, start_z: np.ndarray | None) -> None:
        """The solver starts over for this request's start (and fix count); the old ranking is gone."""
        self._solver.reset(seed=seed, start_z=start_z)
        self._start_key, self._fix = (request.start, request.seed), request.fix
        self._last_order = None

    def _ensure_solver(self, request: EditRequest, device, stages: Stages) -> None:
        """Load the model and build the solver when the model, device, K or solver settings change."""
        from demo.engine.checkpoint import load_model
        from demo.engine.solver_config import SolverConfig, default_candidates

        candidates = request.candidates or default_candidates(device)
        config = SolverConfig(**request.solver)
        model_key = (request.model, str(device), candidates, config)
        if model_key == self._model_key:
            return
        began = time.perf_counter()
        self._solver, self._model_key = None, None
        model = load_model(request.model, device=device)
        self._build_solver(model, candidates=candidates, device=device, config=config,
                           seed=_start_seed(request, model.card), start_z=self._start_z(request))
        self._model_key, self._start_key, self._fix = model_key, (request.start, request.seed), request.fix
        self._last_order = None
        self._photo.forget()
        stages.add(LOAD, began, time.perf_counter())

    def _build_solver(self, model, **settings) -> None:
        from demo.engine.solver import ConstraintSolver

        factory = self._solver_factory or ConstraintSolver
        self._solver = factory(model, **settings)
        self._solver_stops = "should_stop" in inspect.signature(self._solver.step).parameters
        if self._constraints is not None and self._constraints.resolution == self._solver.resolution:
            self._solver.set_constraints(self._constraints, force=True)

    def _rasterise(self, request: EditRequest, stages: Stages) -> None:
        """The request's strokes as constraints, once per strokes_version (and per model resolution)."""
        resolution = self._solver.resolution
        if (self._strokes_version == request.strokes_version and self._constraints is not None
                and self._constraints.resolution == resolution):
            return
        began = time.perf_counter()
        self._constraints = self._raster.constraints(request.strokes, resolution, version=request.strokes_version)
        self._solver.set_constraints(self._constraints, force=True)
        self._strokes_version = request.strokes_version
        stages.add(RASTERISE, began, time.perf_counter())

    def _spend_chunk(self, request: EditRequest, max_steps: int | None, should_stop, stages: Stages,
                     device) -> tuple[int, bool]:
        """Steps for about ``chunk_seconds`` (at least one), or until ``should_stop()``; (steps done, cut short).

        A new request's first chunk is one step: the first image that saw the edit comes out at once.
        """
        import torch

        budget = self.steps_left if max_steps is None else min(self.steps_left, max_steps)
        if budget <= 0:
            return 0, False
        if self._first_chunk:
            budget = 1
        elif self._step_seconds:  # On CUDA the host runs ahead of the device; the measured step time caps the count.
            budget = min(budget, max(1, int(request.chunk_seconds / self._step_seconds)))
        self._first_chunk = False
        synchronize = torch.cuda.synchronize if device.type == "cuda" else None
        outcome = run_chunk(self._solver, budget=budget, chunk_seconds=request.chunk_seconds, should_stop=should_stop,
                            solver_stops=self._solver_stops, synchronize=synchronize, stages=stages)
        done, newer = outcome.steps, outcome.newer
        if outcome.seconds_per_step is not None:
            measured = outcome.seconds_per_step
            self._step_seconds = measured if not self._step_seconds else 0.7 * self._step_seconds + 0.3 * measured
        self.steps_left -= done
        self.steps_total += done
        return done, newer

    def _result(self, request: EditRequest, stages: Stages, started: float, chunk: int, stopped: bool,
                notices: list[str]) -> EditResult:
        solver = self._solver
        began = time.perf_counter()
        ranking = solver.evaluate(settled=self.steps_left == 0)
        self._last_order = ranking.order
        top = ranking.order[: max(1, request.top_k)]
        current_slot = self._current_slot(request)
        if current_slot not in top:
            top = np.concatenate([top[:-1], [current_slot]]) if len(top) > 1 else np.array([current_slot])
        current = int(np.flatnonzero(top == current_slot)[0])
        arrays = dict(slots=top.copy(), images=ranking.images[top], losses=ranking.loss[top],
                      color_rmse=ranking.color_rmse[top], sketch_error=ranking.sketch_error[top],
                      z=ranking.z[top], z0=ranking.z0[top])
        stages.add(EVALUATE, began, time.perf_counter())
        card = solver.model.card
        finished = time.perf_counter()
        result = EditResult(
            stamp=request.stamp,
            notice="; ".join(notices) or None,
            model_name=card.name,
            stand_in=card.stand_in,
            resolution=card.resolution,
            device=str(solver.device),
            candidates=solver.candidates,
            steps_done=solver.steps_done,
            steps_left=self.steps_left,
            steps_total=self.steps_total,
            current=current,
            step_seconds=self._step_seconds,
            chunk_steps=chunk,
            preempted=stopped,
            compute_seconds=finished - started,
            finished_at=finished,
            timings=stages.timings,
            spans=tuple(stages.spans),
            worker_pid=os.getpid(),
            worker_rss_mb=resident_mb(),
            photo_z=None if self._photo.projection is None else self._photo.projection.z,
            photo_image=None if self._photo.projection is None else self._photo.projection.image,
            **arrays,
        )
        if self.steps_left == 0 and (request.display or (request.morph_frames > 0 and solver.steps_done > 0)):
            self._follow_ups.owe(result)  # display image and morph follow in results of their own, off the latency path
        return result

    def _shrink(self, request: EditRequest, device) -> str:
        """After CUDA ran out of memory: half the candidates (the best, by the last ranking), a new solver."""
        import torch

        from demo.engine.out_of_memory import keep_best

        old, self._solver = self._solver, None
        order = self._last_order if self._last_order is not None else np.arange(old.candidates)
        kept = keep_best(old, order)
        del old
        if device.type == "cuda":
            torch.cuda.empty_cache()
        self._build_solver(kept.model, candidates=kept.candidates, device=device, config=kept.config,
                           seed=_start_seed(request, kept.model.card))
        kept.put_into(self._solver)
        if self._constraints is not None:
            self._solver.set_constraints(self._constraints, force=True)
        self._last_order = np.arange(kept.candidates)
        return f"out of GPU memory: candidates lowered to {kept.candidates} (the best kept)"

    def _start_z(self, request: EditRequest) -> np.ndarray | None:
        """An explicit start latent, else the loaded photo's, else None (a random start)."""
        if request.start_z is not None:
            return request.start_z
        return self._photo.start_z(request)

    def _current_slot(self, request: EditRequest) -> int:
        if request.pick is not None and 0 <= request.pick < self._solver.candidates:
            return int(request.pick)
        return int(self._last_order[0]) if self._last_order is not None else 0


def _start_seed(request: EditRequest, card) -> int:
    """The seed of a fresh start: the model card's curated start seeds in turn, so no one starts on a black image."""
    from demo.engine.checkpoint import start_seed_for

    return start_seed_for(card, request.seed + request.start)
