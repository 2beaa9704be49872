"""The constrained solver on a small generator: it lowers the color error, is deterministic, fix and reset work."""

from __future__ import annotations

import numpy as np

from demo.engine.solver import ConstraintSolver
from demo.engine.solver_config import SolverConfig
from demo.tools.edit_state import EditState
from demo.tools.session import Event


def paint(resolution, *strokes):
    state = EditState()
    for tool, points, color in strokes:
        (x0, y0), *rest = points
        state.apply(Event(t=0, type="down", tool=tool, x=x0, y=y0, color=color, width=0.25))
        for x, y in rest:
            state.apply(Event(t=0, type="move", x=x, y=y))
        state.apply(Event(t=0, type="up"))
    return state.constraints(resolution)


def reachable_colors(model, seed=123):
    """Stroke colors the generator can make: the mean colors of one of its own images at the strokes."""
    import torch

    with torch.no_grad():
        z = torch.rand(1, model.card.nz, generator=torch.Generator().manual_seed(seed)) * 2 - 1
        image = ((model.G(z)[0].permute(1, 2, 0).numpy() + 1) * 127.5).clip(0, 255)
    top = tuple(int(c) for c in image[6:10, 3:29].reshape(-1, 3).mean(0))
    bottom = tuple(int(c) for c in image[24:28, 3:29].reshape(-1, 3).mean(0))
    return top, bottom


def lower_the_color_error(model, *, free_prior_weight):
    """Two reachable colour bands, 60 steps from a random start: (before, after) rankings."""
    top, bottom = reachable_colors(model)
    constraints = paint(32, ("color", [(0.1, 0.25), (0.9, 0.25)], top), ("color", [(0.1, 0.8), (0.9, 0.8)], bottom))
    solver = ConstraintSolver(model, candidates=6, seed=0, config=SolverConfig(free_prior_weight=free_prior_weight))
    solver.set_constraints(constraints)
    before = solver.evaluate()
    solver.step(60)
    return before, solver.evaluate(fresh=True)


def test_solver_lowers_the_color_error(small_model):
    before, after = lower_the_color_error(small_model, free_prior_weight=0.0)  # the colour term alone
    best_before = before.color_rmse[before.order[0]]
    best_after = after.color_rmse[after.order[0]]
    assert best_after < 0.6 * best_before
    # Every candidate improved, not just the best.
    assert np.all(after.color_rmse < before.color_rmse)


def test_the_default_free_prior_holds_candidates_near_their_start_while_the_strokes_pull(small_model):
    assert SolverConfig().free_prior_weight > 0
    _, held = lower_the_color_error(small_model, free_prior_weight=SolverConfig().free_prior_weight)
    before, loose = lower_the_color_error(small_model, free_prior_weight=0.0)
    assert "prior" in held.terms and "prior" not in loose.terms
    assert np.all(held.color_rmse < before.color_rmse)  # the strokes still pull every candidate
    drift = lambda ranking: np.linalg.norm(ranking.z - ranking.z0, axis=1)  # noqa: E731
    assert np.median(drift(held)) < np.median(drift(loose))


def test_solver_is_deterministic_under_a_seed(small_model):
    constraints = paint(32, ("color", [(0.2, 0.5), (0.8, 0.5)], (0, 255, 0)), ("sketch", [(0.1, 0.3), (0.9, 0.3)], (0, 0, 0)))
    runs = []
    for _ in range(2):
        solver = ConstraintSolver(small_model, candidates=4, seed=7)
        solver.set_constraints(constraints)
        solver.step(10)
        runs.append(solver.evaluate(fresh=True))
    np.testing.assert_array_equal(runs[0].z, runs[1].z)
    np.testing.assert_array_equal(runs[0].images, runs[1].images)
    other = ConstraintSolver(small_model, candidates=4, seed=8)
    assert not np.array_equal(other.evaluate().z, runs[0].z)


def drift_after_fix(model, constraints, *, prior_weight):
    """Fix the best candidate after 5 steps, step 20 more; each candidate's distance from its z0. [K]"""
    solver = ConstraintSolver(model, candidates=4, seed=0,
                              config=SolverConfig(prior_weight=prior_weight, free_prior_weight=0.0))
    solver.set_constraints(constraints)
    solver.step(5)
    ranking = solver.evaluate(fresh=True)
    chosen = int(ranking.order[0])
    assert solver.anchor == "free" and "prior" not in ranking.terms
    solver.fix(chosen)
    fixed = solver.evaluate(fresh=True)
    assert solver.anchor == "fix"
    assert ("prior" in fixed.terms) == (prior_weight > 0)
    np.testing.assert_allclose(fixed.z0[0], ranking.z[chosen], atol=1e-5)
    solver.step(20)
    moved = solver.evaluate(fresh=True)
    return np.linalg.norm(moved.z - moved.z0, axis=1)


def test_fix_recentres_and_anchors(small_model):
    # An unreachable yellow pulls every candidate away from where it was fixed; lambda_S (the default
    # prior_weight, 5) holds each near its z0, so it drifts well under half as far as the same run with
    # lambda_S = 0 (measured: ~0.12 against ~1.3 in latent L2).
    constraints = paint(32, ("color", [(0.2, 0.5), (0.8, 0.5)], (255, 255, 0)))
    anchored = drift_after_fix(small_model, constraints, prior_weight=SolverConfig().prior_weight)
    free = drift_after_fix(small_model, constraints, prior_weight=0.0)
    assert np.all(free > 0.5), free  # the constraint does pull, so the comparison means something
    assert np.all(anchored < 0.5 * free), (anchored, free)


def test_reset_and_start_from_a_given_latent(small_model):
    solver = ConstraintSolver(small_model, candidates=4, seed=0)
    first = solver.evaluate().z
    solver.reset(seed=1)
    assert not np.array_equal(first, solver.evaluate().z)
    start = np.linspace(-0.5, 0.5, small_model.card.nz).astype(np.float32)
    solver.reset(seed=2, start_z=start)
    ranking = solver.evaluate()
    np.testing.assert_allclose(ranking.z[0], start, atol=1e-5)
    assert solver.anchor == "photo"


def test_a_photo_start_is_held_more_loosely_than_a_fix(small_model):
    # Around a photo's latent lambda_S is photo_prior_weight (the edit reaches the photo only through its
    # region, so G may move further); after a fix it is prior_weight. The same unreachable yellow, the same
    # start: the photo-anchored candidates drift further from z0 than the fixed ones.
    constraints = paint(32, ("color", [(0.2, 0.5), (0.8, 0.5)], (255, 255, 0)))
    config = SolverConfig(prior_weight=5.0, photo_prior_weight=1.0)
    start = np.linspace(-0.5, 0.5, small_model.card.nz).astype(np.float32)
    drift = {}
    for anchor in ("photo", "fix"):
        solver = ConstraintSolver(small_model, candidates=4, seed=0, config=config, start_z=start)
        assert solver.anchor == "photo" and solver.prior_weight == 1.0
        if anchor == "fix":
            solver.fix(0)
            assert solver.anchor == "fix" and solver.prior_weight == 5.0
        solver.set_constraints(constraints)
        solver.step(20)
        moved = solver.evaluate(fresh=True)
        drift[anchor] = np.linalg.norm(moved.z - moved.z0, axis=1)
    assert np.median(drift["photo"]) > 1.5 * np.median(drift["fix"]), drift


def test_warp_drag_is_pursued_and_survives_fix(small_model):
    constraints = paint(32, ("warp", [(0.3, 0.5), (0.6, 0.5)], (0, 0, 0)))
    solver = ConstraintSolver(small_model, candidates=4, seed=0)
    solver.set_constraints(constraints)
    before = solver.evaluate().terms["warp"]
    solver.step(40)
    after = solver.evaluate(fresh=True).terms["warp"]
    assert after.mean() < 0.7 * before.mean()
    solver.fix(int(solver.evaluate().order[0]))
    assert "warp" in solver.evaluate(fresh=True).terms


def every_term(resolution=32):
    return paint(resolution, ("color", [(0.1, 0.2), (0.9, 0.2)], (250, 140, 40)),
                 ("sketch", [(0.1, 0.6), (0.5, 0.45), (0.9, 0.6)], (0, 0, 0)),
                 ("warp", [(0.4, 0.8), (0.6, 0.8)], (0, 0, 0)))


def test_fused_step_loss_equals_the_sum_of_the_reported_terms(small_model):
    import torch

    solver = ConstraintSolver(small_model, candidates=4, seed=3, config=SolverConfig(typical_weight=0.5),
                              start_z=np.zeros(small_model.card.nz, np.float32))
    solver.set_constraints(every_term())
    solver.step(3)
    # The step's fused objective and the per-term losses evaluate() reports: same values, same gradients, at
    # latents run out toward the box's corners (mean z^2 about 0.8) so that the typical term pulls too.
    w = (solver.w.detach() + np.arctanh(0.9)).requires_grad_(True)
    z = torch.tanh(w)
    fused = solver._current_objective()(z, small_model.G(z))
    (fused_grad,) = torch.autograd.grad(fused.sum(), w)
    z = torch.tanh(w)
    reference, terms = solver._losses(z, small_model.G(z))
    (reference_grad,) = torch.autograd.grad(reference.sum(), w)
    assert set(terms) == {"color", "sketch", "warp", "prior", "typical"}
    assert (terms["typical"] > 0).all()
    torch.testing.assert_close(fused, reference, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(fused_grad, reference_grad, rtol=1e-3, atol=1e-6)


def test_the_typical_term_holds_latents_where_the_prior_draws_them_or_where_they_started():
    import torch

    from demo.engine.losses import typical_band, typical_band_around, typical_term

    # The band holds 95 % of the prior's draws (2 sd either side of the mean of z^2)...
    generator = torch.Generator().manual_seed(0)
    band = typical_band("uniform", 100)
    draws = torch.rand(4000, 100, generator=generator) * 2 - 1  # [N, nz]
    middle = torch.full((4000, 100), (1 / 3) ** 0.5)  # starts at the prior's mean of z^2: the band is the prior's
    inside = typical_term(draws, typical_band_around(middle, band)) == 0
    assert 0.93 < inside.float().mean() < 0.98
    normal = torch.randn(4000, 100, generator=generator)
    low, high = typical_band("normal", 100)
    assert 0.93 < (((normal ** 2).mean(1) > low) & ((normal ** 2).mean(1) < high)).float().mean() < 0.98
    # ...it grows past toward the box's corners and in at its centre...
    z0 = draws[:2]  # [2, nz], typical starts
    out, centre = torch.full((2, 100), 0.9), torch.full((2, 100), 0.1)
    assert (typical_term(out, typical_band_around(z0, band)) > 0.3).all()
    assert (typical_term(centre, typical_band_around(z0, band)) > 0.2).all()
    # ...and never pulls a candidate away from its own start, wherever that lies (a projected photo's latent).
    assert (typical_term(out, typical_band_around(out, band)) == 0).all()
    assert (typical_term(centre, typical_band_around(centre, band)) == 0).all()


def test_a_nan_candidate_restarts_near_z0_and_the_others_carry_on(small_model):
    import torch

    constraints = every_term()
    runs = []
    for inject in (False, True):
        solver = ConstraintSolver(small_model, candidates=4, seed=5)
        solver.set_constraints(constraints)
        solver.step(4)
        if inject:
            with torch.no_grad():
                solver.w[2, 0] = float("nan")
        solver.step(1)
        runs.append(solver)
    clean, broken = runs
    assert clean.nan_resets == 0 and broken.nan_resets == 1
    z = torch.tanh(broken.w.detach())
    assert torch.isfinite(z).all()
    # The broken slot started again near its z0, with a cleared Adam state...
    assert (z[2] - broken.z0[2]).abs().max() < 0.3
    assert broken.optimizer.row_steps[2].item() == 0 and broken.optimizer.exp_avg[2].abs().max() == 0
    # ...and the other slots took exactly the step they would have taken anyway.
    keep = [0, 1, 3]
    torch.testing.assert_close(broken.w.detach()[keep], clean.w.detach()[keep], rtol=0, atol=0)
    broken.step(3)
    assert np.isfinite(broken.evaluate(fresh=True).loss).all()


def test_stage_timings_accumulate_and_reset(small_model):
    solver = ConstraintSolver(small_model, candidates=2, seed=0)
    solver.set_constraints(every_term())
    solver.step(3)
    timings = solver.take_timings()
    assert timings["steps"] == 3
    assert all(timings[stage] > 0 for stage in ("forward", "backward", "adam"))
    assert solver.take_timings() == {"forward": 0.0, "backward": 0.0, "adam": 0.0, "steps": 0}


def test_step_stops_between_steps_when_asked(small_model):
    solver = ConstraintSolver(small_model, candidates=2, seed=0)
    solver.set_constraints(every_term())
    asked = []

    def should_stop():
        asked.append(solver.steps_done)
        return len(asked) >= 3

    done = solver.step(10, should_stop=should_stop)
    assert done == 3 and solver.steps_done == 3 and solver.take_timings()["steps"] == 3
    assert solver.step(2) == 2 and solver.steps_done == 5


def test_batch_adam_matches_torch_adam():
    import torch

    from demo.engine.solver_adam import BatchAdam

    generator = torch.Generator().manual_seed(0)
    start = torch.randn(3, 5, generator=generator)
    ours, theirs = start.clone().requires_grad_(True), start.clone().requires_grad_(True)
    batch_adam = BatchAdam(ours, lr=0.1, betas=(0.9, 0.999))
    torch_adam = torch.optim.Adam([theirs], lr=0.1, betas=(0.9, 0.999))
    for _ in range(6):
        grad = torch.randn(3, 5, generator=generator)
        ours.grad, theirs.grad = grad.clone(), grad.clone()
        batch_adam.step()
        torch_adam.step()
    torch.testing.assert_close(ours.detach(), theirs.detach(), rtol=1e-4, atol=1e-5)  # float rounding order


def test_graphs_mode_without_cuda_warns_and_runs_eager(small_model):
    import pytest

    constraints = every_term()
    results = []
    for mode in ("eager", "graphs"):
        solver = ConstraintSolver(small_model, candidates=3, seed=4, config=SolverConfig(step_mode=mode))
        solver.set_constraints(constraints)
        if mode == "graphs":
            with pytest.warns(RuntimeWarning, match="graphs"):
                solver.step(3)
        else:
            solver.step(3)
        assert solver.step_mode == "eager"
        results.append(solver.evaluate(fresh=True).z)
    np.testing.assert_array_equal(results[0], results[1])


def test_a_step_shows_the_latents_it_made_and_renders_each_once(small_model):
    """The result that answers a stroke shows a step taken under it: evaluate() after a step equals a fresh
    render of the updated latents, and in steady state a step runs G once (its forward is rendered ahead)."""
    top, _ = reachable_colors(small_model)
    solver = ConstraintSolver(small_model, candidates=3, seed=1)
    solver.set_constraints(paint(32, ("color", [(0.1, 0.25), (0.9, 0.25)], top)))
    renders = []
    hook = solver.G.register_forward_hook(lambda module, args, output: renders.append(output.shape[0]))
    try:
        solver.step(1)
        assert len(renders) == 2  # the first step renders its start, then ahead
        shown = solver.evaluate()
        assert len(renders) == 2  # ranking reuses the render ahead
        fresh = solver.evaluate(fresh=True)
        np.testing.assert_array_equal(shown.z, fresh.z)
        np.testing.assert_allclose(shown.loss, fresh.loss, rtol=1e-5, atol=1e-6)
        assert np.abs(shown.images.astype(int) - fresh.images).max() <= 1
        # A new stroke changes the loss, not the render: the next steps still cost one render each.
        count = len(renders)
        solver.set_constraints(paint(32, ("color", [(0.1, 0.8), (0.9, 0.8)], top)))
        solver.step(4)
        assert len(renders) == count + 4  # one render per step
        np.testing.assert_array_equal(solver.evaluate().z, solver.evaluate(fresh=True).z)
    finally:
        hook.remove()


def test_the_folded_generator_computes_g_and_its_gradient(small_model):
    import torch

    from demo.engine.inference_generator import InferenceGenerator, inference_generator

    G = small_model.G
    folded = inference_generator(G)
    assert isinstance(folded, InferenceGenerator)
    z = (torch.rand(5, G.config.nz, generator=torch.Generator().manual_seed(3)) * 2 - 1).requires_grad_(True)
    ours = folded(z)
    theirs = G(z)
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-4)
    (grad_ours,) = torch.autograd.grad(ours.square().sum(), z)
    (grad_theirs,) = torch.autograd.grad(theirs.square().sum(), z)
    torch.testing.assert_close(grad_ours, grad_theirs, atol=1e-4, rtol=1e-4)
    assert not any(p.requires_grad for p in folded.parameters())


def test_a_generator_of_another_layout_is_used_as_it_is(small_model):
    import copy

    import torch

    from demo.engine.inference_generator import inference_generator

    G = copy.deepcopy(small_model.G)
    G.main[2] = torch.nn.LeakyReLU(0.2)  # not the DCGAN layout the folding knows
    assert inference_generator(G) is G


def test_realism_pick_shows_the_candidate_d_finds_most_natural_among_the_near_best(small_model):
    import dataclasses

    import torch

    from demo.engine.networks import CriticConfig, Discriminator

    torch.manual_seed(0)  # the critic's own initialisation (a test, not library code)
    D = Discriminator(CriticConfig.from_base(resolution=32, base=8, spectral_norm=False)).eval()
    model = dataclasses.replace(small_model, D=D)
    constraints = paint(32, ("color", [(0.1, 0.3), (0.9, 0.3)], reachable_colors(small_model)[0]))
    shown = {}
    for pick in (0.0, 1.0):
        solver = ConstraintSolver(model, candidates=8, seed=0, config=SolverConfig(realism_pick=pick))
        assert solver.evaluate().order.tolist() == list(range(8))  # nothing asked yet: the start as it was
        solver.set_constraints(constraints)
        solver.step(10)
        ranking = solver.evaluate(fresh=True)
        shown[pick] = ranking
    by_loss, picked = shown[0.0], shown[1.0]
    assert np.array_equal(by_loss.order, np.argsort(by_loss.loss, kind="stable"))
    # The same steps (the ranking does not steer them): the shown one is D's favourite among those within 2x the best.
    np.testing.assert_array_equal(by_loss.loss, picked.loss)
    with torch.no_grad():
        logits = D(torch.as_tensor(picked.images).permute(0, 3, 1, 2).float() / 127.5 - 1).flatten().numpy()
    near = np.flatnonzero(picked.loss <= 2 * picked.loss.min())
    assert len(near) >= 2, picked.loss
    assert picked.order[0] == near[np.argmax(logits[near])]
    assert set(picked.order[: len(near)]) == set(near)
    assert picked.order[0] != by_loss.order[0]  # here D prefers another than the lowest loss: the case is seen
    # A photo's edit keeps the plain order: it is carried onto the photo, where the strokes are what counts.
    photo = ConstraintSolver(model, candidates=8, seed=0, config=SolverConfig(realism_pick=1.0),
                             start_z=by_loss.z[0])
    photo.set_constraints(constraints)
    photo.step(10)
    ranking = photo.evaluate(fresh=True)
    assert np.array_equal(ranking.order, np.argsort(ranking.loss, kind="stable"))


def test_d_scores_the_candidates_once_every_few_steps_and_again_when_the_edit_settles():
    from demo.engine.solver_pick import NaturalPick

    calls = []

    def naturalness():
        calls.append(1)
        return np.array([0.0, 2.0, 1.0, 5.0])  # D likes slot 3 most, but its loss is far from the best

    pick = NaturalPick(tolerance=0.5, every=8)
    loss = np.array([1.0, 1.2, 1.4, 9.0])
    assert pick.order(np.zeros(4), steps=0, naturalness=naturalness, refresh=True).tolist() == [0, 1, 2, 3]
    assert calls == []  # nothing asked: the start is shown as it was, and D is not run
    assert pick.order(loss, steps=1, naturalness=naturalness, refresh=False).tolist() == [1, 2, 0, 3]
    for step in range(2, 9):  # within 8 steps of the scoring: the scores are reused
        pick.order(loss, steps=step, naturalness=naturalness, refresh=False)
    assert len(calls) == 1
    pick.order(loss, steps=9, naturalness=naturalness, refresh=False)
    pick.order(loss, steps=9, naturalness=naturalness, refresh=True)  # settled: scored again
    assert len(calls) == 3
    pick.forget()
    pick.order(loss, steps=0, naturalness=naturalness, refresh=False)  # a new start
    assert len(calls) == 4
