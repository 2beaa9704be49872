"""A loaded photo, projected onto the model's manifold a chunk at a time inside the engine.

The engine asks ``wanted(request)`` whether the request carries a photo it has not projected yet,
``begin``s it (hybrid when the model has an encoder, else optimisation), and ``advance``s it by about
a chunk per run; each chunk is published as a progress result. Once done, ``projection`` holds the
photo's latent and image, and the latent becomes the start of the edit (``start_z``).
"""

from __future__ import annotations

import os
import time

import numpy as np

from demo.engine.api import EditRequest, EditResult
from demo.engine.stages import resident_mb


class PhotoProjection:
    def __init__(self) -> None:
        self.version = 0  # the request's photo_version last begun
        self.projection = None  # the finished Projection (z, image) of the loaded photo
        self._steps = None  # iterator of a projection under way
        self._total = 0

    @property
    def running(self) -> bool:
        return self._steps is not None

    def forget(self) -> None:
        """A new model or solver: any photo is projected again."""
        self.version, self.projection, self._steps = 0, None, None

    def wanted(self, request: EditRequest) -> bool:
        return request.photo is not None and request.photo_version != self.version

    def begin(self, request: EditRequest, model) -> None:
        from demo.engine.projection import iter_projection

        self.version = request.photo_version
        self.projection = None
        self._total = request.projection_steps
        method = "hybrid" if model.E is not None else "opt"
        self._steps = iter_projection(model, request.photo, method=method, steps=request.projection_steps,
                                      seed=request.seed)

    def advance(self, request: EditRequest, solver, *, steps_left: int) -> EditResult | None:
        """Project for about ``chunk_seconds``; a progress result, or None once done (``projection`` is set)."""
        started = time.perf_counter()
        preview = None
        done = 0
        try:
            while time.perf_counter() - started < request.chunk_seconds:
                done, image = next(self._steps)
                preview = image if image is not None else preview
        except StopIteration as stop:
            self.projection = stop.value
            self._steps = None
            return None
        card = solver.model.card
        images = np.zeros((1, card.resolution, card.resolution, 3), np.uint8) if preview is None else preview[None]
        return EditResult(
            stamp=request.stamp, model_name=card.name, stand_in=card.stand_in, resolution=card.resolution,
            device=str(solver.device), candidates=solver.candidates, steps_left=steps_left, images=images,
            slots=np.zeros(1, np.int64), losses=np.zeros(1, np.float32), color_rmse=np.zeros(1, np.float32),
            projecting=True, progress=done / max(1, self._total),
            compute_seconds=time.perf_counter() - started, finished_at=time.perf_counter(),
            worker_pid=os.getpid(), worker_rss_mb=resident_mb(),
        )

    def start_z(self, request: EditRequest) -> np.ndarray | None:
        """The photo's latent when the request still shows the photo, else None."""
        return self.projection.z if (self.projection is not None and request.photo is not None) else None
