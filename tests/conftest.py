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

    torch.set_num_threads(1)  # Two torch threads next to llvmpipe on 2 cores thrash; tests use small models.
    return random_stand_in(resolution=32, nz=16, base=16, seed=1)


@pytest.fixture(scope="session")
def small_model_file(small_model, tmp_path_factory):
    from demo.engine.checkpoint import save_model

    path = tmp_path_factory.mktemp("models") / "small.safetensors"
    return save_model(path, small_model.card, G=small_model.G)


@pytest.fixture(scope="module")
def gl_ctx():
    """One headless context per module, released after it: while one is alive, a pygame window's
    context cannot be wrapped (see demo.gl.context.wrap_current_context), so window tests elsewhere
    must not find one left over."""
    from demo.gl import create_headless_context

    context = create_headless_context()
    yield context
    context.release()


@pytest.fixture
def ctx(gl_ctx):
    """The module's context, made current, error-free before and after the test, blending off."""
    import moderngl

    with gl_ctx:
        assert gl_ctx.error == "GL_NO_ERROR"
        gl_ctx.disable(moderngl.BLEND)
        yield gl_ctx
        assert gl_ctx.error == "GL_NO_ERROR"


@pytest.fixture(scope="session")
def landscapes16():
    """32 procedural scenes at 16x16: uint8 [32, 3, 16, 16] (tiny training sets)."""
    import torch

    from demo.data.landscapes import LandscapeConfig, render_batch

    array = render_batch(range(32), config=LandscapeConfig(size=16))  # [32, 16, 16, 3]
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(scope="session")
def landscapes16_dir(tmp_path_factory):
    """The same 32 scenes as a data folder, written by `python -m demo data`."""
    from demo.cli import main

    out = tmp_path_factory.mktemp("data")
    assert main(["data", "landscapes", "--count", "32", "--size", "16", "--out", str(out)]) == 0
    return out
