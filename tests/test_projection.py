"""Photo projection: three pure functions with one signature, photo decoding, the CLI, and the engine path."""

from __future__ import annotations

import inspect
import json
import shutil

import numpy as np
import pytest
import torch
from PIL import Image

from demo.cli import main
from demo.engine.api import EditRequest
from demo.engine.checkpoint import LoadedModel, card_for, save_model
from demo.engine.engine import Engine
from demo.engine.networks import CriticConfig, Discriminator, Encoder
from demo.engine.projection import (PROJECTORS, cache_tag, normalised_features, pixel_weights, project, projection_loss,
                                    to_tensor)
from demo.tools.photo import centre_crop_resize, load_photo


@pytest.fixture(scope="module")
def model_with_encoder(small_model, tmp_path_factory):
    torch.manual_seed(0)
    D = Discriminator(CriticConfig.from_base(resolution=32, base=8))
    E = Encoder(CriticConfig.from_base(resolution=32, base=8, spectral_norm=False), nz=small_model.card.nz, prior="uniform")
    card = card_for(name="small-enc", G=small_model.G, D=D, E=E, prior="uniform")
    path = save_model(tmp_path_factory.mktemp("m") / "small_enc", card, G=small_model.G, D=D, E=E)
    return path, LoadedModel(card=card, G=small_model.G, D=D.eval(), E=E.eval()).to("cpu")


def reachable_target(model, seed=5) -> np.ndarray:
    with torch.no_grad():
        z = torch.rand(1, model.card.nz, generator=torch.Generator().manual_seed(seed)) * 2 - 1
        return ((model.G(z)[0].permute(1, 2, 0).numpy() + 1) * 127.5 + 0.5).clip(0, 255).astype(np.uint8)


def test_projectors_share_one_signature():
    signatures = {name: inspect.signature(fn) for name, fn in PROJECTORS.items()}
    params = [tuple((p.name, p.kind) for p in sig.parameters.values()) for sig in signatures.values()]
    assert len(set(params)) == 1


def test_each_method_returns_a_projection_and_optimisation_helps(model_with_encoder):
    _, model = model_with_encoder
    target = reachable_target(model)
    results = {m: project(model, target, method=m, steps=40, seed=0, candidates=4) for m in ("opt", "encoder", "hybrid")}
    for method, result in results.items():
        assert result.method == method
        assert result.z.shape == (model.card.nz,) and result.image.shape == (32, 32, 3)
        assert result.perceptual is not None
        # pixel_rmse is the RMSE of the returned image against the target (G's float image, so within rounding).
        rmse = float(np.sqrt(((result.image.astype(float) - target.astype(float)) ** 2).mean()))
        assert result.pixel_rmse == pytest.approx(rmse, abs=0.5)
    assert results["encoder"].steps == 0
    # Optimisation lowers the error from where the (untrained) encoder starts.
    assert results["hybrid"].pixel_rmse < results["encoder"].pixel_rmse
    steps_seen = []
    project(model, target, method="opt", steps=5, candidates=2, progress=lambda done, total: steps_seen.append(done))
    assert steps_seen == [1, 2, 3, 4, 5]


def test_the_targets_features_kept_across_steps_give_the_same_loss_and_gradient(model_with_encoder):
    # A projection computes D's features of its target once; the loss and its gradient are those of the
    # loss that recomputes them.
    _, model = model_with_encoder
    target = to_tensor(reachable_target(model, seed=9), torch.device("cpu"))  # [1, 3, 32, 32]
    z = (torch.rand(3, model.card.nz, generator=torch.Generator().manual_seed(2)) * 2 - 1).requires_grad_(True)
    with torch.no_grad():
        kept = normalised_features(model, target)
    assert kept is not None
    losses = {}
    for name, features in (("recomputed", None), ("kept", kept)):
        loss = projection_loss(model, model.G(z), target, target_features=features)  # [3]
        (gradient,) = torch.autograd.grad(loss.sum(), z)
        losses[name] = (loss.detach(), gradient)
    assert torch.allclose(losses["kept"][0], losses["recomputed"][0], atol=1e-6)
    assert torch.allclose(losses["kept"][1], losses["recomputed"][1], atol=1e-6)
    assert float(losses["kept"][0].min()) > 0


def test_the_projection_loss_looks_for_a_moon_more_than_for_as_much_error_on_open_sky(model_with_encoder):
    # A night sky with a 3x3 moon: leaving the moon out costs more than the same squared error spread over
    # the sky, though the two are equally far off by plain MSE. The weights have mean 1, so a flat target's
    # loss is plain MSE.
    _, model = model_with_encoder
    night = torch.full((1, 3, 32, 32), -0.9)
    night[..., 8:11, 8:11] = 0.8
    no_moon = night.clone()
    no_moon[..., 8:11, 8:11] = -0.9
    dim_sky = night + (no_moon - night).pow(2).mean().sqrt()  # the same MSE as leaving the moon out
    assert torch.allclose((no_moon - night).pow(2).mean(), (dim_sky - night).pow(2).mean())
    weights = pixel_weights(night)  # [1, 1, 32, 32]
    assert float(weights.mean()) == pytest.approx(1.0) and float(weights[0, 0, 9, 9]) > 5 * float(weights[0, 0, 28, 4])
    drawn = torch.cat([no_moon, dim_sky])  # [2, 3, 32, 32]
    pixel_only = projection_loss(model, drawn, night, feature_weight=0.0)  # [2]
    assert float(pixel_only[0]) > 3 * float(pixel_only[1])
    flat = torch.full((1, 3, 32, 32), 0.2)
    assert float(projection_loss(model, flat + 0.1, flat, feature_weight=0.0)[0]) == pytest.approx(0.01, rel=1e-5)


def test_cached_projections_are_named_by_the_model_files_content(model_with_encoder, small_model, tmp_path):
    # A retrained model keeps its name; its projections must not be taken from the old one's cache.
    path, _ = model_with_encoder
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    assert cache_tag(str(copy)) == cache_tag(str(path))
    retrained = save_model(tmp_path / "other", card_for(name="small-enc", G=small_model.G, prior="uniform"), G=small_model.G)
    shutil.copy(retrained, copy)
    assert cache_tag(str(copy)) != cache_tag(str(path))


def test_photo_decoding_handles_common_formats(tmp_path):
    rgb = np.zeros((40, 60, 3), np.uint8)
    rgb[:, :30] = (255, 0, 0)
    Image.fromarray(rgb).save(tmp_path / "a.jpg", quality=95)
    Image.fromarray(rgb).save(tmp_path / "a.webp", lossless=True)
    Image.fromarray(np.full((20, 20), 65535, np.uint16)).save(tmp_path / "g16.png")
    Image.fromarray(np.full((20, 20), 128, np.uint8), mode="L").save(tmp_path / "grey.png")
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 3] = 0
    Image.fromarray(rgba, mode="RGBA").save(tmp_path / "clear.png")
    # EXIF orientation 6 (rotate 90 CW on display): a 60x40 file shows as 40x60.
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = 6
    image.save(tmp_path / "rot.jpg", exif=exif, quality=95)

    assert load_photo(tmp_path / "a.webp")[10, 10].tolist() == [255, 0, 0]
    assert load_photo(tmp_path / "a.jpg").shape == (40, 60, 3)
    assert load_photo(tmp_path / "g16.png")[0, 0].tolist() == [255, 255, 255]
    assert load_photo(tmp_path / "grey.png")[0, 0].tolist() == [128, 128, 128]
    assert load_photo(tmp_path / "clear.png")[0, 0].tolist() == [255, 255, 255]  # transparent -> white
    rotated = load_photo(tmp_path / "rot.jpg")
    assert rotated.shape == (60, 40, 3)
    assert rotated[5, 20].tolist()[0] > 200  # the red half is now on top
    square = centre_crop_resize(load_photo(tmp_path / "a.webp"), 16)
    assert square.shape == (16, 16, 3)


def test_project_command_writes_outputs(tmp_path, model_with_encoder):
    path, model = model_with_encoder
    photo = tmp_path / "photo.png"
    Image.fromarray(np.repeat(np.repeat(reachable_target(model), 3, 0), 3, 1)).save(photo)
    out = tmp_path / "out"
    assert main(["project", str(photo), "--model", str(path), "--method", "hybrid", "--steps", "10",
                 "--candidates", "2", "--out", str(out), "--device", "cpu"]) == 0
    report = json.loads((out / "report.json").read_text())
    for key in ("method", "steps", "seconds", "pixel_rmse", "perceptual"):
        assert key in report
    assert np.load(out / "z.npy").shape == (model.card.nz,)
    assert (out / "projection.png").exists()
    assert Image.open(out / "display.png").size == (4 * model.card.resolution,) * 2


def test_engine_projects_a_photo_then_edits_from_it(model_with_encoder):
    path, model = model_with_encoder
    target = reachable_target(model)
    engine = Engine()
    engine.submit(EditRequest(model=str(path), device="cpu", candidates=3, photo=target, photo_version=1,
                              projection_steps=15, steps=4, chunk_seconds=0.001, morph_frames=5))
    results = []
    while engine.busy:
        results.append(engine.run())
    assert all(r.error is None for r in results), results[-1].error
    assert results[0].projecting and 0 <= results[0].progress < 1
    final = results[-1]
    assert not final.projecting and final.photo_z is not None and final.photo_image.shape == (32, 32, 3)
    # The edit starts at the photo's latent, anchored there.
    np.testing.assert_allclose(final.z0[list(final.slots).index(0)] if 0 in final.slots else final.photo_z,
                               final.photo_z, atol=1e-5)
    assert final.morph is not None and final.morph.shape == (5, 32, 32, 3)
