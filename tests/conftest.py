"""Shared fixtures: small models built in-process (nothing is downloaded)."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "offscreen")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def small_model():
    """A 32px random-weight generator with calibrated batch norm (fast on CPU)."""
    import torch

    from demo.engine.checkpoint import random_stand_in

    torch.set_num_threads(min(2, torch.get_num_threads()))
    return random_stand_in(resolution=32, nz=16, base=16, seed=1)


@pytest.fixture(scope="session")
def small_model_file(small_model, tmp_path_factory):
    from demo.engine.checkpoint import save_model

    path = tmp_path_factory.mktemp("models") / "small.safetensors"
    return save_model(path, small_model.card, G=small_model.G)
