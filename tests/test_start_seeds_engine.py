"""The engine starts from the model card's curated start seeds (no visitor starts on a black image)."""

from __future__ import annotations

import dataclasses

import numpy as np

from demo.engine.api import EditRequest
from demo.engine.checkpoint import load_model, save_model
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
