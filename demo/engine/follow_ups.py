"""What a finished request is owed beyond its images, sent after the result that answered the edit, off
the latency path, each piece only while no newer request waits (the engine drops them on ``submit``):

1. the shown image at display resolution (the detail generator, under the G's display settings) and the
   z0 -> current morph, in one result;
2. the morph at display resolution, ``MORPH_DISPLAY_BATCH`` frames per call, in one result at the end.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from demo.engine.api import DISPLAY, MORPH, EditRequest, EditResult
from demo.engine.stages import Stages

# Morph frames upsampled per call: a new stroke waits for at most one call, so a call should cost about one
# solver step (at one thread: 3 landscape frames about 11 ms, 3 avatar frames under their smoothing about 17).
MORPH_DISPLAY_BATCH = 3


class FollowUps:
    def __init__(self) -> None:
        self._owed_for: EditResult | None = None  # a finished request's last result, owed its follow-ups
        self._sent: EditResult | None = None  # the follow-ups sent so far (display image, morph)
        self._morph_display: list[np.ndarray] = []  # morph frames upsampled so far
        self._morph_key: tuple | None = None
        self._morph: np.ndarray | None = None
        self._networks: dict[str, object] = {}  # "shown" and "morph" display networks, loaded when first asked
        self._networks_for: tuple[str, str] | None = None  # (device, model) they were loaded for

    @property
    def pending(self) -> bool:
        return self._owed_for is not None

    def owe(self, result: EditResult) -> None:
        """``result`` finished its request: its follow-ups come next."""
        self._owed_for, self._sent, self._morph_display = result, None, []

    def drop(self) -> None:
        self._owed_for, self._sent, self._morph_display = None, None, []

    def next(self, request: EditRequest, solver, stages: Stages) -> EditResult | None:
        """The next follow-up result, or None while the display morph is still being upsampled."""
        last = self._owed_for
        if self._sent is None:
            current = int(last.current)
            display = self._display(request, solver, last.images[current:current + 1], stages, network="shown")
            morph = None
            if request.morph_frames > 0 and solver.steps_done > 0:
                morph = self._morph_frames(request, solver, last.z0[current], last.z[current], stages)
            self._sent = dataclasses.replace(last, display=None if display is None else display[0], morph=morph)
            self._morph_display = []
            if display is None or morph is None:
                self._owed_for = None
            return _stamped(self._sent, stages)
        morph = self._sent.morph
        done = sum(len(frames) for frames in self._morph_display)
        self._morph_display.append(self._display(request, solver, morph[done:done + MORPH_DISPLAY_BATCH], stages,
                                                 network="morph"))
        if done + MORPH_DISPLAY_BATCH < len(morph):
            return None
        self._owed_for = None
        return _stamped(dataclasses.replace(self._sent, morph_display=np.concatenate(self._morph_display)), stages)

    def _display(self, request: EditRequest, solver, images: np.ndarray, stages: Stages, *,
                 network: str) -> np.ndarray | None:
        """uint8 [N, R, R, 3] at display resolution; None if not asked or not possible. The shown image gets the
        detail generator (about one solver step); the morph's frames the cheap x4 upsampler, a batch per call;
        both under the G's own display settings (its card's ``display``), so the morph ends on the same look."""
        from demo.engine.upsample import load_display, load_upsampler

        if not request.display or images.shape[-1] != 3:
            return None
        device, card = str(solver.device), solver.model.card
        if self._networks_for != (device, card.name):  # each G has its own display settings
            self._networks, self._networks_for = {}, (device, card.name)
        if network not in self._networks:
            load = load_display if network == "shown" else load_upsampler
            self._networks[network] = load(device, settings=card.display)
        upsampler = self._networks[network]
        if upsampler is None:
            return None
        began = time.perf_counter()
        display = upsampler.upsample(np.ascontiguousarray(images))
        stages.add(DISPLAY, began, time.perf_counter())
        return display

    def _morph_frames(self, request: EditRequest, solver, z0: np.ndarray, z1: np.ndarray,
                      stages: Stages) -> np.ndarray | None:
        """z0 -> current in ``morph_frames`` frames, rendered once per finished request that moved."""
        key = (request.stamp, request.morph_frames)
        if key != self._morph_key:
            from demo.engine.interpolate import render_morph

            began = time.perf_counter()
            self._morph = render_morph(solver.G, z0, z1, frames=request.morph_frames, prior=solver.model.card.prior)
            self._morph_key = key
            stages.add(MORPH, began, time.perf_counter())
        return self._morph


def _stamped(result: EditResult, stages: Stages) -> EditResult:
    # The follow-up repeats its request's last result; that result's notice was already told.
    return dataclasses.replace(result, chunk_steps=0, preempted=False, notice=None, timings=stages.timings,
                               spans=tuple(stages.spans), finished_at=time.perf_counter())
