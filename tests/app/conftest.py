"""Fixtures of the app tests: the model they draw with, and a check that every test closes its window."""

from __future__ import annotations

import pygame
import pytest


@pytest.fixture(scope="module")
def app_model(tmp_path_factory):
    """A 32 px random generator with a wider latent than tests/conftest.py's small_model, so that color strokes visibly pull it.

    The in-process (sync) solver shares the CPU with the window's llvmpipe threads: one torch thread
    avoids oversubscribing a 2-core machine (measured 10x slower with two), as the app's worker does.
    """
    import torch

    from demo.engine.checkpoint import random_stand_in, save_model

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    model = random_stand_in(resolution=32, nz=100, base=32, seed=1)
    yield save_model(tmp_path_factory.mktemp("app_model") / "wide32.safetensors", model.card, G=model.G)
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def gl_errors_stay_clear():
    yield
    # Every app closes its window; the next test opens a fresh one.
    assert not pygame.display.get_init() or pygame.display.get_surface() is None
