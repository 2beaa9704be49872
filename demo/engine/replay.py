"""Headless replay of a session through the engine API (used by ``edit``, ``transfer`` and tests).

Events are applied in order; after each finished stroke and before each engine command (fix,
reset, pick), the solver spends ``steps`` steps on the strokes so far, as the app's replay does
after an edit. It runs through the same ``EditRequest``/``Engine`` path as the app, and commands
go through the same ``apply_command``: a pick of a thumbnail that is not shown is ignored, and
its one-line warning is kept in ``ReplayOutcome.warnings``.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from demo.engine.api import EditRequest, EditResult, apply_command
from demo.engine.worker import SyncClient
from demo.tools.edit_state import EditState
from demo.tools.session import Session


@dataclass(frozen=True)
class ReplayOutcome:
    initial: EditResult  # the start latents scored against the session's final constraints
    final: EditResult
    steps: int
    seconds: float
    has_sketch: bool
    has_color: bool
    warnings: tuple[str, ...] = ()  # commands that were ignored, one line each


def _settle(client: SyncClient, on_steps: Callable[[int], None] | None) -> EditResult:
    """Poll until the current request's budget is spent; raise its error as UserError-free RuntimeError."""
    result = None
    while True:
        polled = client.poll()
        if polled is None:
            break
        result = polled
        if result.error:
            raise RuntimeError(f"engine error: {result.error}")
        if on_steps is not None and result.chunk_steps:
            on_steps(result.chunk_steps)
        if result.steps_left == 0 and not result.projecting:
            break
    if result is None:
        raise RuntimeError("engine returned no result")
    return result


def replay_session(
    session: Session,
    *,
    model: str,
    steps: int,
    candidates: int | None,
    seed: int,
    device: str,
    resolution: int,
    start_z: np.ndarray | None = None,
    top_k: int = 16,
    on_steps: Callable[[int], None] | None = None,
    solver: dict | None = None,
) -> ReplayOutcome:
    """Replay ``session`` as the app's --replay does; ``solver``: SolverConfig overrides (as EditRequest.solver)."""
    state = EditState()
    for event in session.events:
        if event.type != "command":
            state.apply(event)
    final_constraints = state.constraints(resolution)
    base = EditRequest(model=model, device=device, candidates=candidates, seed=seed, start_z=start_z,
                       top_k=top_k, chunk_seconds=0.25, steps=0, solver=dict(solver or {}))
    client = SyncClient()

    # Score the start against everything the session asks for (version -1: the replay's own
    # EditState below counts from 0, so no version of it can be mistaken for this one).
    client.submit(dataclasses.replace(base, strokes=tuple(state.visible_strokes), strokes_version=-1))
    initial = _settle(client, None)

    started = time.perf_counter()
    state = EditState()
    request = base
    total = 0
    ignored: list[str] = []

    def run_steps() -> EditResult:
        nonlocal request, total
        request = dataclasses.replace(request, strokes=tuple(state.visible_strokes), strokes_version=state.version,
                                      steps=steps)
        client.submit(request)
        total += steps
        return _settle(client, on_steps)

    # As the app's replay: a full budget after each finished stroke and after each command.
    last = None
    for event in session.events:
        state.apply(event)
        if event.type == "command":
            shown = last if last is not None else initial
            request = apply_command(request, event.name, index=event.index, shown_slots=shown.slots,
                                    on_ignored=ignored.append)
        if event.type in ("up", "command"):
            last = run_steps()
    final = last if last is not None else run_steps()
    return ReplayOutcome(initial=initial, final=final, steps=total, seconds=time.perf_counter() - started,
                         has_sketch=final_constraints.has_sketch, has_color=final_constraints.has_color,
                         warnings=tuple(ignored))
