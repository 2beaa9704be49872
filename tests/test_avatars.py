"""The DiceBear avatar data source: planning, licences, compositing, and real Node rendering at tiny sizes.

The rendering tests run the real renderer (node + the packages pinned in tools/avatars/package-lock.json).
They run `npm ci` there the first time, which needs the npm registry once. They are skipped only when
node or npm is not installed at all.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from demo.cli import main
from demo.data.avatars import (
    ALLOWED_LICENCES,
    STYLE_NAMES,
    STYLES,
    TOOL_DIR,
    AvatarConfig,
    AvatarJob,
    _render_slice,
    check_licences,
    composite,
    ensure_renderer,
    plan_avatar,
    render_avatars,
    style_metadata,
)
from demo.errors import UserError

TINY = AvatarConfig(size=16, supersample=2)
needs_node = pytest.mark.skipif(shutil.which("node") is None or shutil.which("npm") is None,
                                reason="node/npm not installed: the avatar renderer runs in Node")


@pytest.fixture(scope="module")
def renderer():
    return ensure_renderer(log=lambda message: None)


def test_plan_is_deterministic_varied_and_uses_every_style():
    assert plan_avatar(123) == plan_avatar(123)
    plans = [plan_avatar(s) for s in range(200)]
    assert {p.style for p in plans} == set(STYLE_NAMES)
    assert len({p.seed for p in plans}) == 200
    backgrounds = np.array([p.background for p in plans])
    assert backgrounds.min() >= 0 and backgrounds.max() <= 255
    assert backgrounds.std(axis=0).min() > 20  # varied colours, not one backdrop


def test_only_cc0_and_cc_by_styles_are_used():
    assert all(style.licence in ALLOWED_LICENCES for style in STYLES)
    assert all(style.creator and style.source.startswith("http") for style in STYLES)


def test_composite_is_premultiplied_over_the_background():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[0, 0] = (255, 128, 0, 255)  # opaque orange
    rgba[0, 1] = (100, 0, 0, 128)  # premultiplied half-transparent red
    out = composite(rgba, (0, 0, 200), size=4)
    assert tuple(out[0, 0]) == (255, 128, 0)
    assert tuple(out[1, 1]) == (0, 0, 200)  # transparent: background
    assert tuple(out[0, 1]) == (100, 0, 100)  # 100 + 0.498 * (0, 0, 200)
    assert composite(rgba, (0, 0, 200), size=2).shape == (2, 2, 3)


def test_changed_licence_in_the_packages_is_refused():
    meta = {s.name: {"creator": s.creator, "license": {"name": "CC BY 4.0"}} for s in STYLES}
    assert [s.name for s in check_licences(STYLE_NAMES, meta)] == list(STYLE_NAMES)
    meta["micah"]["license"]["name"] = "Free for personal and commercial use"
    with pytest.raises(UserError, match="micah"):
        check_licences(STYLE_NAMES, meta)


@needs_node
def test_installed_packages_state_the_licences_we_credit(renderer):
    checked = check_licences(STYLE_NAMES, style_metadata())
    assert [s.name for s in checked] == list(STYLE_NAMES)


@needs_node
def test_rendering_is_deterministic_and_independent_of_workers(renderer):
    seeds = list(range(6))
    a = render_avatars(seeds, config=TINY)
    assert a.shape == (6, 16, 16, 3) and a.dtype == np.uint8
    assert np.array_equal(a, render_avatars(seeds, config=TINY, workers=2))
    for image, seed in zip(a, seeds):
        assert tuple(image[0, 0]) == plan_avatar(seed).background  # top corners are backdrop
        assert image.astype(float).std() > 10  # and there is a portrait on it
    diffs = [np.abs(a[0].astype(int) - other.astype(int)).mean() for other in a[1:]]
    assert min(diffs) > 5.0


@needs_node
def test_renderer_failure_names_the_script(renderer):
    out = np.zeros((1, 16, 16, 3), np.uint8)
    job = AvatarJob(style="noSuchStyle", seed="x", background=(0, 0, 0))
    with pytest.raises(UserError, match="render.mjs.*unknown style"):
        _render_slice([job], out, size=16, draw_size=16, tool_dir=TOOL_DIR, on_image=lambda: None)


@needs_node
def test_data_command_writes_array_preview_and_meta(renderer, tmp_path):
    out = tmp_path / "avatars"
    assert main(["data", "avatars", "--count", "5", "--size", "16", "--out", str(out)]) == 0
    array = np.load(out / "avatars.npy")
    assert array.shape == (5, 16, 16, 3) and array.dtype == np.uint8
    assert np.array_equal(array, render_avatars(range(5), config=TINY))
    meta = json.loads((out / "meta.json").read_text())
    assert meta["kind"] == "avatars" and meta["count"] == 5 and meta["images_per_second"] > 0
    assert {s["name"] for s in meta["styles"]} == set(STYLE_NAMES)
    assert sum(s["images"] for s in meta["styles"]) == 5
    assert all(s["licence"] in ALLOWED_LICENCES and s["creator"] in s["attribution"] for s in meta["styles"])
    assert (out / "preview.png").stat().st_size > 0


def test_bad_size_is_a_user_error(tmp_path, capsys):
    assert main(["data", "avatars", "--count", "5", "--size", "4", "--out", str(tmp_path)]) == 2
    assert "--size" in capsys.readouterr().err


@needs_node
def test_card_step_credits_every_style_and_measures_on_unseen_avatars(renderer, tmp_path, small_model):
    import torch

    from demo.engine.checkpoint import LoadedModel
    from demo.engine.networks import CriticConfig, Encoder
    from demo.train.shipping.avatars import describe, unseen_metrics

    out = tmp_path / "avatars"
    assert main(["data", "avatars", "--count", "8", "--size", "32", "--out", str(out)]) == 0
    meta = json.loads((out / "meta.json").read_text())
    dataset, licence = describe(meta)
    assert "8 DiceBear avatar portraits at 32x32" in dataset
    assert all(style.creator in licence and style.title in licence for style in STYLES)

    images = torch.from_numpy(np.load(out / "avatars.npy")).permute(0, 3, 1, 2)  # [8, 3, 32, 32]
    E = Encoder(CriticConfig.from_base(resolution=32, base=8, spectral_norm=False), nz=16, prior="uniform").eval()
    model = LoadedModel(card=small_model.card, G=small_model.G, D=None, E=E)
    metrics = unseen_metrics(model, images, images[:3], reference=5)
    assert metrics["fd8_unseen_real_vs_data"] >= 0 and metrics["nn_to_train_samples_rms"] >= 0
    assert metrics["nn_to_train_unseen_real_rms"] >= 0 and "held-out seeds" in metrics["metric_notes"]
    assert 0 < metrics["encoder_rmse_unseen_real"] < 255


@needs_node
def test_export_calibrate_and_encoder_on_avatars_write_an_avatars_card(renderer, tmp_path):
    data, model = tmp_path / "avatars", tmp_path / "tiny_avatars"
    assert main(["data", "avatars", "--count", "8", "--size", "16", "--out", str(data)]) == 0
    flags = ["--base", "8", "--d-base", "8", "--batch", "4", "--nz", "16", "--no-progress", "--threads", "1",
             "--measure-count", "16", "--calibration-steps", "5"]
    assert main(["train", "gan", "--data", str(data), "--out", str(tmp_path / "run"), "--steps", "1",
                 "--export", str(model), *flags]) == 0
    for step in ("export", "calibrate", "encoder"):
        if step == "calibrate":
            assert main(["train", "calibrate", "--model", str(model.with_suffix(".safetensors")), "--data", str(data),
                         *flags]) == 0
        if step == "encoder":
            assert main(["train", "encoder", "--model", str(model.with_suffix(".safetensors")), "--data", str(data),
                         "--out", str(tmp_path / "encoder"), "--steps", "1", *flags]) == 0
            notes = json.loads(model.with_suffix(".json").read_text())["metrics"]["encoder_metric_notes"]
            assert "DiceBear avatars from held-out seeds" in notes  # not procedural landscapes
        card = json.loads(model.with_suffix(".json").read_text())
        assert "DiceBear" in card["dataset"] and "CC-BY-4.0" in card["licence"], step
        assert not any(key.startswith("fd8_samples_vs_heldout") for key in card["metrics"]), step  # landscapes' figure
        assert "held-out seeds" in card["metrics"]["metric_notes"], step
