"""Encoder starts: a new colour stroke restarts the worst candidates at the encoder's reading of the painted best."""

from __future__ import annotations

import numpy as np
import torch

from demo.engine.checkpoint import load_model
from demo.engine.solver import ConstraintSolver
from demo.engine.solver_config import SolverConfig
from demo.tools.edit_state import EditState
from demo.tools.session import Event


def sky_stroke(resolution: int):
    state = EditState()
    state.apply(Event(t=0, type="down", tool="color", x=0.1, y=0.15, color=(240, 120, 40), width=0.1))
    state.apply(Event(t=0, type="move", x=0.9, y=0.15))
    state.apply(Event(t=0, type="up"))
    return state.constraints(resolution)


def solver_after_a_stroke(model, *, encoder_starts: int) -> tuple[ConstraintSolver, np.ndarray]:
    """(solver, its latents before the stroke)."""
    solver = ConstraintSolver(model, candidates=6, config=SolverConfig(encoder_starts=encoder_starts), seed=4)
    solver.step(3)
    before = torch.tanh(solver.w).detach().numpy().copy()
    strokes = sky_stroke(model.card.resolution)
    solver.set_constraints(strokes)
    return solver, before


def test_the_worst_candidates_restart_from_the_encoder_and_the_best_keeps_its_place():
    torch.set_num_threads(1)
    model = load_model("landscape64")
    solver, before = solver_after_a_stroke(model, encoder_starts=3)
    after = torch.tanh(solver.w).detach().numpy()
    moved = np.abs(after - before).max(axis=1) > 1e-4  # [K]
    assert moved.sum() == 3
    ranking = solver.evaluate(fresh=True)
    # The restarted rows sit around one latent (the encoder's), a start_jitter apart.
    restarted = after[moved]
    assert np.abs(restarted - restarted.mean(0)).max() < 0.3
    # On a stroke of a natural colour, the encoder's start matches it better than the random starts it replaced.
    plain, _ = solver_after_a_stroke(model, encoder_starts=0)
    plain_loss = plain.evaluate(fresh=True).loss
    assert ranking.loss[moved].min() < np.sort(plain_loss)[-3:].min()


def test_without_an_encoder_nothing_restarts(small_model):
    solver, before = solver_after_a_stroke(small_model, encoder_starts=3)  # the stand-in has no encoder
    assert np.allclose(torch.tanh(solver.w).detach().numpy(), before, atol=1e-6)


def test_around_a_photo_or_after_a_fix_nothing_restarts():
    torch.set_num_threads(1)
    model = load_model("landscape64")
    assert SolverConfig().encoder_starts > 0  # on by default, from a random start
    strokes = sky_stroke(model.card.resolution)
    for anchor in ("photo", "fix"):
        solver = ConstraintSolver(model, candidates=6, seed=4)
        if anchor == "photo":
            solver.reset(seed=4, start_z=np.zeros(model.card.nz, np.float32))
        else:
            solver.fix(2)
        assert solver.anchor == anchor
        before = torch.tanh(solver.w).detach().numpy().copy()
        solver.set_constraints(strokes)
        assert np.allclose(torch.tanh(solver.w).detach().numpy(), before, atol=1e-6), anchor
