"""The engine starts from the model card's curated start seeds (no visitor starts on a black image)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np

from demo.app.loop.start_preview import load_start_preview
from demo.engine.api import EditRequest
from demo.engine.checkpoint import load_model, save_model
from demo.engine.checkpoint.start_previews import write_start_previews
from demo.engine.checkpoint.safetensors_io import update_card
from demo.engine.engine import Engine
from demo.engine.solver import ConstraintSolver


def first_z(engine: Engine, request: EditRequest) -> np.ndarray:
    engine.submit(request)
    result = engine.run()
    assert result.error is None, result.error
    return result.z[np.argsort(result.slots)]  # [K, nz] by slot


def test_fresh_starts_use_the_cards_start_seeds_in_turn(small_model, tmp_path):
    card = dataclasses.replace(small_model.card, start_seeds=(7, 11))
    path = save_model(tmp_path / "curated.safetensors", card, G=small_model.G)
    request = EditRequest(model=str(path), device="cpu", candidates=3, seed=0, steps=0, top_k=3)
    engine, model = Engine(), load_model(path, device="cpu")
    for start, seed in ((0, 7), (1, 11), (2, 7)):
        z = first_z(engine, dataclasses.replace(request, start=start))
        expected = ConstraintSolver(model, candidates=3, seed=seed).evaluate(fresh=True).z
        assert np.allclose(z, expected), (start, seed)


def engine_first_image(model, *, seed: int, candidates: int) -> np.ndarray:
    engine = Engine()
    engine.submit(EditRequest(model=str(model), device="cpu", candidates=candidates, seed=seed, steps=3, top_k=2))
    result = engine.run()
    assert result.error is None, result.error
    return result.image


def test_the_start_preview_is_the_engines_first_image_for_any_k(small_model, tmp_path):
    card = dataclasses.replace(small_model.card, start_seeds=(7, 11, 5))
    path = save_model(tmp_path / "curated.safetensors", card, G=small_model.G)
    assert load_start_preview(str(path), seed=0) is None  # no previews written yet
    strip = write_start_previews(path)
    assert strip.exists() and json.loads(path.with_suffix(".json").read_text())["start_previews"] == strip.name
    for seed, candidates in ((0, 2), (1, 8), (4, 5)):  # seed 4 wraps around to the second start seed
        preview = load_start_preview(str(path), seed=seed)
        assert np.array_equal(preview, engine_first_image(path, seed=seed, candidates=candidates)), (seed, candidates)
    # A strip written for other start seeds is not used.
    save_model(path, dataclasses.replace(card, start_seeds=(7, 11)), G=small_model.G)
    update_card(path.with_suffix(".json"), start_previews=strip.name)  # the old strip of three
    assert load_start_preview(str(path), seed=0) is None


def test_the_shipped_models_start_previews_match_their_generators():
    """Retraining a model without refreshing its previews would show a stranger while the engine loads."""
    for name in ("landscape64", "avatars64"):
        for seed in (0, 5):
            assert np.array_equal(load_start_preview(name, seed=seed), engine_first_image(name, seed=seed, candidates=8)), name
