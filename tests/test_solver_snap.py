"""Encoder starts: a new colour stroke restarts the worst candidates at the encoder's reading of the painted best."""

from __future__ import annotations

import dataclasses

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
    """(solver, its latents before the stroke), with the stroke set and no step taken since."""
    solver = ConstraintSolver(model, candidates=6, config=SolverConfig(encoder_starts=encoder_starts), seed=4)
    solver.step(3)
    before = torch.tanh(solver.w).detach().numpy().copy()
    strokes = sky_stroke(model.card.resolution)
    solver.set_constraints(strokes)
    return solver, before


def restarted_rows(solver: ConstraintSolver) -> np.ndarray:
    """[K] bool: the candidates whose Adam state began again after fewer steps than the solver took."""
    return solver.optimizer.row_steps.flatten().numpy() < solver.steps_done


def test_the_worst_candidates_restart_from_the_encoder_and_the_best_keeps_its_place():
    torch.set_num_threads(1)
    model = load_model("landscape64")
    solver, before = solver_after_a_stroke(model, encoder_starts=3)
    assert np.array_equal(torch.tanh(solver.w).detach().numpy(), before)  # at the next step, not before it
    solver.step(1)
    moved = restarted_rows(solver)  # [K]
    assert moved.sum() == 3
    ranking = solver.evaluate(fresh=True)
    # The restarted rows sit around one latent (the encoder's), a start_jitter and one Adam step apart.
    restarted = torch.tanh(solver.w).detach().numpy()[moved]
    assert np.abs(restarted - restarted.mean(0)).max() < 0.3
    # On a stroke of a natural colour, the encoder's start matches it better than the random starts it replaced.
    plain, _ = solver_after_a_stroke(model, encoder_starts=0)
    plain.step(1)
    assert not restarted_rows(plain).any()
    plain_loss = plain.evaluate(fresh=True).loss
    assert ranking.loss[moved].min() < np.sort(plain_loss)[-3:].min()


def test_strokes_that_keep_changing_restart_candidates_at_most_every_few_steps_and_the_last_change_gets_its_start():
    from demo.engine.solver_snap import ENCODER_START_EVERY

    torch.set_num_threads(1)
    model = load_model("landscape64")
    solver, _ = solver_after_a_stroke(model, encoder_starts=3)
    solver.step(1)
    first = solver.optimizer.row_steps.flatten().numpy().copy()
    # The stroke grows on the next chunk, as it does while it is drawn: too soon for another start.
    longer = sky_stroke(model.card.resolution)
    solver.set_constraints(dataclasses.replace(longer, version=longer.version + 1))
    solver.step(1)
    np.testing.assert_array_equal(solver.optimizer.row_steps.flatten().numpy(), first + 1)
    # Once ENCODER_START_EVERY steps have passed since the last start, the change gets its own.
    solver.step(ENCODER_START_EVERY)
    assert (solver.optimizer.row_steps.flatten().numpy() < ENCODER_START_EVERY).sum() == 3


def test_without_an_encoder_nothing_restarts(small_model):
    solver, _ = solver_after_a_stroke(small_model, encoder_starts=3)  # the stand-in has no encoder
    solver.step(2)
    assert not restarted_rows(solver).any()


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
        solver.set_constraints(strokes)
        solver.step(2)
        assert not restarted_rows(solver).any(), anchor
