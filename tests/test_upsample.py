"""The x4 display upsampler: exact bicubic baseline, faithful back-projection, the shipped weights on a
procedural scene, file handling, its training loop, and the ``sample`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from demo.engine.upsample import (
    DEFAULT_UPSAMPLER,
    UpsampleNet,
    Upsampler,
    UpsamplerConfig,
    load_upsampler,
    read_upsampler,
    save_upsampler,
    upsample_or_resize,
)
from demo.engine.upsample_phases import area_downsample, bicubic_upsample, binomial_blur
from demo.errors import UserError


def untrained_upsampler(seed: int = 0, *, smooth: bool = True) -> Upsampler:
    """A network whose residual is random (not zero), so fidelity is the back-projection's doing."""
    torch.manual_seed(seed)
    net = UpsampleNet(UpsamplerConfig(width=8, depth=2, smooth_fidelity=smooth))
    torch.nn.init.normal_(net.residual[-1].weight, std=0.05)
    return Upsampler(net=net.eval().requires_grad_(False), card={}, device=torch.device("cpu"))


def landscape_pair(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A held-out procedural scene at 256^2 and its 64^2 area-downsample."""
    import cv2

    from demo.data.landscapes import LandscapeConfig, render_landscape

    truth = render_landscape(seed, config=LandscapeConfig(size=256, supersample=1))
    return truth, cv2.resize(truth, (64, 64), interpolation=cv2.INTER_AREA)


def gradient_energy(image: np.ndarray) -> float:
    x = image.astype(np.float64)
    return float((np.diff(x, axis=0) ** 2).mean() + (np.diff(x, axis=1) ** 2).mean())


def test_bicubic_baseline_equals_torch_interpolate():
    x = torch.randn(2, 3, 12, 12)
    expected = F.interpolate(x, scale_factor=4, mode="bicubic", align_corners=False)
    assert torch.allclose(bicubic_upsample(x, 4), expected, atol=1e-5)


def test_exact_back_projection_makes_the_downsample_equal_the_input():
    net = untrained_upsampler(smooth=False).net
    x = torch.rand(2, 3, 16, 16) * 1.6 - 0.8
    display = net(x)  # [2, 3, 64, 64]
    assert display.shape == (2, 3, 64, 64)
    assert torch.allclose(area_downsample(display, 4), x, atol=1e-5)
    # Without the fidelity step the same residual moves the image away from its input.
    free = net.reconfigured(back_projection_steps=0)
    assert (area_downsample(free(x), 4) - x).abs().max() > 1e-2


def test_smooth_back_projection_leaves_only_the_checkerboard_part_of_the_error():
    net = untrained_upsampler(smooth=True).net
    free = net.reconfigured(back_projection_steps=0)
    x = torch.rand(2, 3, 16, 16) * 1.6 - 0.8
    before = x - area_downsample(free(x), 4)  # the error the fidelity step corrects
    after = x - area_downsample(net(x), 4)
    assert torch.allclose(after, before - binomial_blur(before), atol=1e-5)
    checker = (torch.arange(16)[:, None] + torch.arange(16)[None]) % 2 * 2.0 - 1  # [16, 16]
    assert binomial_blur(checker.expand(1, 3, 16, 16)).abs().max() < 1e-6  # the 2-pixel grid passes untouched


def test_fidelity_limit_keeps_every_block_within_it_and_leaves_smaller_errors_alone():
    net = untrained_upsampler(smooth=True).net
    x = torch.rand(2, 3, 16, 16) * 0.8 - 0.4  # away from white and black: nothing is clipped
    limit = 0.02
    limited = net.reconfigured(fidelity_limit=limit * 127.5)
    before = x - area_downsample(net(x), 4)  # what the smooth step leaves: the checkerboard part
    after = x - area_downsample(limited(x), 4)
    assert before.abs().max() > limit  # the random residual leaves errors beyond the limit ...
    assert after.abs().max() <= limit + 1e-5  # ... which the limit pulls back to it
    assert torch.allclose(after, before.clamp(-limit, limit), atol=1e-5)  # and errors within it stay as they were


def test_bilateral_filter_is_opencvs():
    import cv2

    from demo.engine.filters import bilateral_filter

    rng = np.random.default_rng(5)
    scene = landscape_pair(5)[1]
    noisy = np.clip(scene + rng.normal(0, 12, scene.shape), 0, 255).astype(np.uint8)  # [64, 64, 3]
    expected = cv2.bilateralFilter(noisy, 5, 30, 3).astype(np.float64)
    x = torch.from_numpy(noisy).permute(2, 0, 1)[None].float()  # [1, 3, 64, 64]
    ours = bilateral_filter(x, sigma_colour=30.0)[0].permute(1, 2, 0).round().numpy()
    assert np.abs(ours - expected).max() <= 1.0  # rounding apart
    assert np.abs(ours - noisy).mean() > 3.0  # and it did smooth


def test_input_smoothing_flattens_grain_but_the_limit_holds_the_display_to_gs_image():
    net = untrained_upsampler(seed=2).net.reconfigured(fidelity_limit=9.0)
    smoothing = net.reconfigured(fidelity_limit=9.0, input_smoothing=40.0)
    generator = torch.Generator().manual_seed(0)
    grain = torch.randn(1, 3, 16, 16, generator=generator) * (5 / 127.5)  # mostly within the limit
    x = torch.cat([torch.full((1, 3, 16, 8), -0.4), torch.full((1, 3, 16, 8), 0.5)], dim=3) + grain  # two grainy flats
    plain, smoothed = area_downsample(net(x), 4), area_downsample(smoothing(x), 4)  # [1, 3, 16, 16] block means
    for half in (slice(0, 7), slice(9, 16)):  # each flat, away from the edge
        assert smoothed[..., half].std() < 0.6 * plain[..., half].std()  # the grain flattens ...
    assert (smoothed[..., 9:].mean() - smoothed[..., :7].mean()).item() > 0.85  # ... the edge between them stays
    assert (x - smoothed).abs().max().item() <= 9.0 / 127.5 + 1e-5  # and no block strays past the limit


def test_fidelity_limit_spreads_what_white_clips_over_the_rest_of_the_block():
    from demo.engine.upsample_phases import hold_within

    phases = torch.full((1, 1, 16, 1, 1), 0.7)
    phases[:, :, :4] = 1.0  # a block whose brightest pixels are already white: mean 0.775
    reference = torch.full((1, 1, 1, 1), 0.95)  # G's pixel, brighter still
    limited = hold_within(phases, reference, limit=0.02)
    flat = (phases + (0.95 - 0.775 - 0.02)).clamp(-1, 1)  # the same correction on every pixel, white clipping it
    assert (reference - flat.mean(2)).item() > 0.05
    assert limited.max() <= 1.0 and (reference - limited.mean(2)).abs().item() <= 0.02 + 1e-5


def test_uint8_images_stay_faithful_at_model_resolution():
    upsampler = untrained_upsampler(seed=3)
    images = np.stack([landscape_pair(seed)[1] for seed in (3, 4)])  # [2, 64, 64, 3]
    display = upsampler.upsample(images)
    assert display.shape == (2, 256, 256, 3) and display.dtype == np.uint8
    down = area_downsample(torch.from_numpy(display).permute(0, 3, 1, 2).float(), 4)
    rmse = (down - torch.from_numpy(images).permute(0, 3, 1, 2).float()).pow(2).mean().sqrt()
    assert rmse < 2.0  # the random residual's checkerboard part, rounding and clipping remain
    single = upsampler.upsample(images[0])
    assert np.abs(single.astype(int) - display[0]).max() <= 1  # batch size only changes float rounding


def test_bad_images_are_refused():
    with pytest.raises(ValueError, match="uint8"):
        untrained_upsampler().upsample(np.zeros((1, 16, 16, 3), np.float32))


def test_save_and_read_round_trip(tmp_path):
    upsampler = untrained_upsampler(seed=5)
    path = save_upsampler(tmp_path / "up.safetensors", upsampler.net, {"name": "test"})
    loaded = read_upsampler(path)
    assert loaded.card["name"] == "test" and loaded.card["config"]["width"] == 8
    images = np.random.default_rng(1).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    assert np.array_equal(loaded.upsample(images), upsampler.upsample(images))


def test_missing_weights_mean_none_and_bicubic(tmp_path):
    assert load_upsampler(path=tmp_path / "absent.safetensors") is None
    images = np.random.default_rng(2).integers(0, 256, (2, 8, 8, 3), dtype=np.uint8)
    display = upsample_or_resize(None, images)
    expected = F.interpolate(torch.from_numpy(images).permute(0, 3, 1, 2).float(), scale_factor=4, mode="bicubic")
    expected = expected.clamp(0, 255).round().permute(0, 2, 3, 1).numpy()
    assert display.shape == (2, 32, 32, 3) and np.abs(display - expected).max() <= 1


def test_corrupt_files_give_one_clear_error(tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not a safetensors file")
    with pytest.raises(UserError, match="bad.safetensors"):
        read_upsampler(bad)
    path = save_upsampler(tmp_path / "ok.safetensors", untrained_upsampler().net, {"name": "x"})
    path.with_suffix(".json").write_text(json.dumps({"config": {"width": 99, "depth": 2}}))
    with pytest.raises(UserError, match="do not fit"):
        read_upsampler(path)


@pytest.mark.skipif(not DEFAULT_UPSAMPLER.exists(), reason="models/upsample4x.safetensors not trained yet")
@pytest.mark.parametrize("name", ["upsample4x", "detail4x"])
def test_shipped_display_networks_are_sharper_than_bicubic_and_faithful(name):
    from demo.engine.checkpoint import MODELS_DIR
    from demo.engine.upsample import read_upsampler

    upsampler = read_upsampler(MODELS_DIR / f"{name}.safetensors")
    assert upsampler.card["name"] == name
    for seed in (10_000_100, 10_000_101):  # held-out seeds
        truth, low = landscape_pair(seed)
        ours = upsampler.upsample(low)
        bicubic = upsample_or_resize(None, low[None])[0]
        assert gradient_energy(ours) > gradient_energy(bicubic)
        down = area_downsample(torch.from_numpy(ours).permute(2, 0, 1)[None].float(), 4)[0].permute(1, 2, 0)
        assert float((down - torch.from_numpy(low).float()).pow(2).mean().sqrt()) < 6


def test_the_avatars_own_display_network_is_sharper_than_bicubic_and_faithful_on_gs_avatars():
    """models/detail4x_avatars, as avatars64's card asks for it, on G's own avatars (no Node needed)."""
    from demo.bench.display import samples
    from demo.engine.checkpoint import load_model
    from demo.engine.upsample import load_display

    upsampler = load_display(settings=load_model("avatars64").card.display)
    assert upsampler.card["name"] == "detail4x_avatars"
    images = samples("avatars64", 6, seed=5)  # uint8 [6, 64, 64, 3]
    ours, bicubic = upsampler.upsample(images), upsample_or_resize(None, images)
    for image, display, smooth in zip(images, ours, bicubic):
        assert gradient_energy(display) > gradient_energy(smooth)
        down = area_downsample(torch.from_numpy(display).permute(2, 0, 1)[None].float(), 4)[0].permute(1, 2, 0)
        assert float((down - torch.from_numpy(image).float()).pow(2).mean().sqrt()) < 6


def test_training_runs_and_resumes(tmp_path, capsys):
    from demo.train.upsampler.__main__ import main

    _, low = landscape_pair(1)
    truths = np.stack([landscape_pair(seed)[0] for seed in (1, 2)])
    data = tmp_path / "land256"
    data.mkdir()
    np.save(data / "landscapes.npy", truths)
    run = tmp_path / "run"
    common = ["--data", str(data), "--out", str(run), "--batch", "2", "--width", "4", "--depth", "1"]
    assert main(["train", *common, "--steps", "2"]) == 0
    assert "upsampler:" in capsys.readouterr().err  # the progress bar
    assert main(["train", *common, "--steps", "3", "--no-progress"]) == 0
    assert "upsampler:" not in capsys.readouterr().err
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert steps == [2, 3]
    assert [p.name for p in (run / "cache").iterdir()] == [p.name for p in (run / "cache").glob("*.npz")] != []  # no temporaries
    assert main(["train", *common[:-4], "--width", "5", "--depth", "1", "--steps", "4"]) == 2  # another shape


def test_training_can_start_from_an_upsampler_file(tmp_path):
    """A machine without runs/ fine-tunes the shipped weights: --init starts a run from the file's network."""
    from demo.train.upsampler.__main__ import main
    from demo.train.upsampler.train import trained_net

    data = tmp_path / "land256"
    data.mkdir()
    np.save(data / "landscapes.npy", np.stack([landscape_pair(seed)[0] for seed in (1, 2)]))
    start = untrained_upsampler(seed=4).net  # width 8, depth 2, a random residual
    weights = save_upsampler(tmp_path / "start.safetensors", start, {"name": "start", "training": {"steps": 12}})
    run = tmp_path / "run"
    common = ["--data", str(data), "--out", str(run), "--batch", "2", "--width", "8", "--depth", "2"]
    assert main(["train", *common, "--steps", "1", "--lr", "0", "--init", str(weights)]) == 0
    net, _ = trained_net(run)
    for name, tensor in start.state_dict().items():  # a zero rate leaves the file's weights as they were
        assert torch.equal(net.state_dict()[name], tensor), name
    assert json.loads((run / "log.jsonl").read_text())["init"] == {"file": str(weights), "steps": 12}
    # A resumed run keeps its own weights, not another file's.
    other_weights = save_upsampler(tmp_path / "other.safetensors", untrained_upsampler(seed=5).net, {"name": "other"})
    assert main(["train", *common, "--steps", "2", "--lr", "0", "--init", str(other_weights)]) == 0
    resumed, info = trained_net(run)
    assert info["step"] == 2
    assert all(torch.equal(resumed.state_dict()[name], tensor) for name, tensor in start.state_dict().items())
    # A file of another shape is refused, naming it, and no run is started.
    other = tmp_path / "other_run"
    assert main(["train", "--data", str(data), "--out", str(other), "--batch", "2", "--width", "4", "--depth", "1",
                 "--steps", "1", "--init", str(weights)]) == 2
    assert not (other / "checkpoint.pt").exists()


def test_training_can_hold_the_fidelity_limit_in_the_loop_on_gs_own_images(tmp_path):
    """A display network for G's images as they are: inputs all the way to G's round trip, no back-projection
    and the limit in training as at inference; --init takes a file shipped under other inference settings."""
    from demo.train.upsampler.__main__ import main
    from demo.train.upsampler.train import trained_net

    data = tmp_path / "land256"
    data.mkdir()
    np.save(data / "landscapes.npy", np.stack([landscape_pair(seed)[0] for seed in (1, 2)]))
    shipped = untrained_upsampler(seed=4).net.reconfigured(fidelity_limit=6.0, residual_gain=1.6)
    weights = save_upsampler(tmp_path / "start.safetensors", shipped, {"name": "start"})
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(run), "--batch", "2", "--width", "8", "--depth", "2",
                 "--steps", "2", "--init", str(weights), "--gan-probability", "1", "--gan-blend", "1", "1",
                 "--back-projection-steps", "0", "--fidelity-limit", "8"]) == 0
    net, info = trained_net(run)
    assert (info["net_config"]["back_projection_steps"], info["net_config"]["fidelity_limit"]) == (0, 8.0)
    row = json.loads((run / "log.jsonl").read_text().splitlines()[-1])
    assert (row["degradation"]["gan_probability"], row["degradation"]["gan_blend"]) == (1.0, [1.0, 1.0])
    x = torch.rand(1, 3, 16, 16) * 1.2 - 0.6  # away from white and black, which can clip a correction
    assert (x - area_downsample(net(x), 4)).abs().max().item() <= 8 / 127.5 + 1e-5


def test_training_can_take_g_own_samples_which_only_the_critic_judges(tmp_path):
    """--samples-of: a share of each batch is G's own images (no true scene), drawn once from its prior; the run
    logs them and resumes; without a critic to judge them, or with no row left for a true scene, it is refused."""
    from demo.train.upsampler.__main__ import main
    from demo.bench.display import samples
    from demo.train.upsampler.data import sample_crops
    from demo.train.upsampler.train import trained_net

    data = tmp_path / "land256"
    data.mkdir()
    np.save(data / "landscapes.npy", np.stack([landscape_pair(seed)[0] for seed in (1, 2)]))
    run = tmp_path / "run"
    common = ["--data", str(data), "--out", str(run), "--batch", "4", "--width", "4", "--depth", "1",
              "--samples-of", "landscape64", "--sample-count", "8", "--sample-share", "0.5", "--input-smoothing", "40"]
    assert main(["train", *common, "--steps", "2"]) == 2  # no critic
    assert not (run / "checkpoint.pt").exists()
    critic = ["--adversarial-weight", "0.05", "--adversarial-after", "1", "--critic-width", "4"]
    assert main(["train", *common, *critic, "--sample-share", "1", "--steps", "2"]) == 2  # no true scene left
    assert main(["train", *common, *critic, "--steps", "2"]) == 0
    assert main(["train", *common, *critic, "--steps", "3"]) == 0
    rows = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in rows] == [2, 3]
    assert rows[-1]["samples"] == {"of": "landscape64", "count": 8, "seed": 2}
    assert rows[-1]["train_config"]["sample_share"] == 0.5
    assert trained_net(run)[1]["net_config"]["input_smoothing"] == 40.0
    # G's samples (the first rows) get no reconstruction loss: only the critic's, once it has joined.
    from demo.train.upsampler.train import Critic, TrainConfig, batch_loss

    config = TrainConfig(adversarial_weight=0.05, critic_width=4, sample_share=0.5)
    net = untrained_upsampler(seed=3).net.train().requires_grad_(True)
    for critic in (None, Critic(config)):
        inputs = (torch.rand(4, 3, 8, 8) * 2 - 1).requires_grad_(True)
        batch_loss(net, inputs, torch.rand(4, 3, 32, 32) * 2 - 1, unpaired=2, critic=critic, config=config).backward()
        per_row = inputs.grad.abs().sum(dim=(1, 2, 3))  # [4]
        assert (per_row[:2] > 0).tolist() == [critic is not None] * 2 and bool((per_row[2:] > 0).all())
    # The crops are windows of G's images, some mirrored, in [-1, 1].
    images = torch.from_numpy(samples("landscape64", 3, seed=2)).permute(0, 3, 1, 2)  # uint8 [3, 3, 64, 64]
    crops = sample_crops(images, batch=6, crop=16, generator=torch.Generator().manual_seed(0))  # [6, 3, 16, 16]
    assert crops.shape == (6, 3, 16, 16)
    windows = images.float().unfold(2, 16, 1).unfold(3, 16, 1) / 127.5 - 1  # [3, 3, 49, 49, 16, 16]
    for crop in crops:
        found = [(windows[..., :, :] - view[:, None, None]).abs().amax(dim=(1, 4, 5)).min().item()
                 for view in (crop, crop.flip(-1))]
        assert min(found) < 1e-6


def test_training_can_take_g_own_projections_as_inputs(tmp_path):
    from demo.train.upsampler.__main__ import main
    from demo.train.upsampler.data import gan_tag

    truths = np.stack([landscape_pair(seed)[0] for seed in (1, 2, 3)])
    data = tmp_path / "land256"
    data.mkdir()
    np.save(data / "landscapes.npy", truths)
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(run), "--batch", "2", "--width", "4", "--depth", "1",
                 "--steps", "2", "--limit", "2", "--projection-probability", "1"]) == 0
    cached = np.load(run / "cache" / f"land256_2_{gan_tag('landscapes')}.npz")  # named after the G that made it
    assert cached["proj"].shape == cached["low"].shape == (2, 64, 64, 3)
    # G's projection is its own image of the scene: near it, but not the scene itself.
    error = np.sqrt(((cached["proj"].astype(float) - cached["low"]) ** 2).mean())
    assert 1 < error < 60
    assert json.loads((run / "log.jsonl").read_text().splitlines()[-1])["degradation"]["projection_probability"] == 1


def test_sample_command_writes_both_resolutions(tmp_path, small_model_file):
    from PIL import Image

    from demo.cli import main

    out = tmp_path / "samples"
    code = main(["sample", "--model", str(small_model_file), "--count", "3", "--out", str(out), "--seed", "4"])
    assert code == 0
    assert sorted(p.name for p in out.glob("*.png")) == [
        "0000.png", "0000_display.png", "0001.png", "0001_display.png", "0002.png", "0002_display.png"]
    assert Image.open(out / "0000.png").size == (32, 32)
    assert Image.open(out / "0000_display.png").size == (128, 128)
    report = json.loads((out / "samples.json").read_text())
    assert report["count"] == 3 and report["display_resolution"] == 128
    again = tmp_path / "again"
    main(["sample", "--model", str(small_model_file), "--count", "3", "--out", str(again), "--seed", "4"])
    assert (again / "0002_display.png").read_bytes() == (out / "0002_display.png").read_bytes()


def test_sample_command_rejects_bad_input(tmp_path, capsys):
    from demo.cli import main

    assert main(["sample", "--count", "0", "--out", str(tmp_path)]) == 2
    assert main(["sample", "--model", str(tmp_path / "none.safetensors"), "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.count("error:") == 2


def test_the_shipped_weights_are_measured_again_without_their_run(tmp_path):
    # A new machine has no runs/: after a GAN changes, export --weights re-measures a model file on held-out
    # scenes and rewrites its figures, keeping its weights and the rest of its card.
    from demo.train.upsampler.__main__ import main

    net = UpsampleNet(UpsamplerConfig(width=4, depth=1, residual_gain=0.5))
    torch.nn.init.normal_(net.residual[-1].weight, std=0.05, generator=torch.Generator().manual_seed(0))
    weights = save_upsampler(tmp_path / "up.safetensors", net, {"name": "up", "dataset": "two scenes",
                                                                 "training": {"steps": 7}, "metrics": {"old": 1}})
    heldout = tmp_path / "land256_heldout"
    heldout.mkdir()
    np.save(heldout / "landscapes.npy", landscape_pair(10_000_000)[0][None])
    written = tmp_path / "out" / "up.safetensors"
    assert main(["export", "--out", str(tmp_path / "run"), "--weights", str(weights), "--heldout", str(heldout),
                 "--model-out", str(written), "--figure", str(tmp_path / "compare.png")]) == 0
    card = json.loads(written.with_suffix(".json").read_text())
    assert (card["dataset"], card["training"], card["config"]["residual_gain"]) == ("two scenes", {"steps": 7}, 0.5)
    figures = card["metrics"]
    assert set(figures) == {f"landscapes/{kind}" for kind in ("clean", "gan_round_trip", "gan_projection",
                                                               "hybrid_projection")}
    assert all(0 < row["sharpness_ours"] and 5 < row["psnr_ours"] < 60 for row in figures.values())
    assert card["speed_1_thread"]["cpu_ms_per_image"]["median"] > 0 and (tmp_path / "compare.png").exists()
    shipped = read_upsampler(written).net.state_dict()
    assert all(torch.equal(value, shipped[key]) for key, value in net.state_dict().items())


def test_the_detail_generator_trains_against_a_critic_and_resumes_it(tmp_path):
    """--adversarial-weight adds a patch critic after the warm-up; its weights and Adam resume with the run."""
    import torch as torch_

    from demo.train.common import load_checkpoint
    from demo.train.upsampler.__main__ import main

    truths = np.stack([landscape_pair(seed)[0] for seed in (1, 2)])
    data = tmp_path / "land256"
    data.mkdir()
    np.save(data / "landscapes.npy", truths)
    run = tmp_path / "run"
    common = ["--data", str(data), "--out", str(run), "--batch", "2", "--width", "4", "--depth", "1",
              "--adversarial-weight", "0.05", "--adversarial-after", "1", "--critic-width", "4"]
    assert main(["train", *common, "--steps", "2"]) == 0
    first = load_checkpoint(run)["critic"]
    assert main(["train", *common, "--steps", "3"]) == 0
    second = load_checkpoint(run)["critic"]
    assert second["optimizer"]["state"][0]["step"] == first["optimizer"]["state"][0]["step"] + 1  # resumed, not fresh
    weight = next(key for key in first["net"] if key.endswith("weight.original"))
    assert not torch_.equal(first["net"][weight], second["net"][weight])


def test_a_missing_detail_generator_falls_back_to_the_upsampler_with_one_warning(tmp_path, capsys):
    from demo.engine.upsample import DEFAULT_UPSAMPLER, load_display

    missing = tmp_path / "detail4x.safetensors"
    first = load_display(path=missing)
    second = load_display(path=missing)
    assert first is not None and first.card == load_upsampler(path=DEFAULT_UPSAMPLER).card and second is not None
    lines = [line for line in capsys.readouterr().err.splitlines() if str(missing) in line]
    assert len(lines) == 1 and "x4 upsampler" in lines[0]


def test_a_corrupt_detail_generator_is_one_line_naming_the_file(tmp_path):

    from demo.engine.upsample import load_display

    broken = tmp_path / "detail4x.safetensors"
    broken.write_bytes(b"not safetensors")
    with pytest.raises(UserError, match="detail4x.safetensors"):
        load_display(path=broken)


def test_a_models_display_settings_replace_the_files_and_bad_ones_are_one_line():
    from demo.engine.checkpoint import load_model
    from demo.engine.upsample import load_display

    settings = load_model("avatars64").card.display  # the avatars' own: G's avatars are noisier than their art
    shown, morph = load_display(settings=settings), load_upsampler(settings=settings)  # the still and the morph
    inference = {name: value for name, value in settings.items() if name != "network"}
    for network in (shown, morph):
        assert inference and all(getattr(network.net.config, name) == value for name, value in inference.items())
    assert (shown.card["name"], settings["network"]) == ("detail4x_avatars", "detail4x_avatars")  # their own network
    assert load_display().card["name"] == "detail4x"
    assert morph.net.config.width == load_upsampler().net.config.width  # the morph: the x4 upsampler, other settings
    assert load_model("landscape64").card.display == {}  # landscapes show the file as it is
    with pytest.raises(UserError, match="unknown width"):
        load_display(settings={"width": 8})
    with pytest.raises(UserError, match="input_smoothing"):
        load_display(settings={"input_smoothing": -1})


def test_a_models_own_display_network_falls_back_to_the_detail_generator_and_a_bad_name_is_one_line(capsys):
    """A G card's display may name its own network (a model in models/); where that file is missing, the shown
    image uses models/detail4x, with one warning line naming the missing file."""
    from demo.engine.upsample import load_display

    settings = {"network": "no_such_display_network", "fidelity_limit": 7.0}
    first, second = load_display(settings=settings), load_display(settings=settings)
    assert first.card["name"] == second.card["name"] == "detail4x" and first.net.config.fidelity_limit == 7.0
    lines = [line for line in capsys.readouterr().err.splitlines() if "no_such_display_network" in line]
    assert len(lines) == 1 and "detail4x" in lines[0]
    for bad in ("../detail4x", "", 4):
        with pytest.raises(UserError, match="'network' must name a model"):
            load_display(settings={"network": bad})


def test_a_model_card_whose_display_is_not_an_object_is_refused():
    from demo.engine.checkpoint import load_model
    from demo.engine.checkpoint.card import ModelCard

    data = load_model("avatars64").card.to_dict()
    with pytest.raises(UserError, match="'display' must be an object"):
        ModelCard.from_dict({**data, "display": 30}, source="avatars64.json")


def test_a_run_is_shipped_under_its_card_with_bench_display_figures(tmp_path):
    """``ship`` keeps the card's text, reads training figures from the run's log and metrics from a bench display
    report, writes the run's weights, and can set the inference-time back-projection."""
    from demo.train.common import load_checkpoint
    from demo.train.upsampler.__main__ import main

    data = tmp_path / "land256"
    data.mkdir()
    np.save(data / "landscapes.npy", np.stack([landscape_pair(seed)[0] for seed in (1, 2)]))
    run = tmp_path / "run"
    assert main(["train", "--data", str(data), "--out", str(run), "--batch", "2", "--width", "4", "--depth", "1",
                 "--steps", "2"]) == 0
    card = tmp_path / "detail.json"
    card.write_text(json.dumps({"name": "detail4x", "licence": "CC-BY-4.0", "training": {"command": "train ..."},
                                "metrics": {"old": 1}, "config": {"width": 99}}))
    display = tmp_path / "display.json"
    display.write_text(json.dumps({"suite": "display", "kinds": {"landscapes": {
        "model": "landscape64", "upsampler": "x", "fine_display_over_floor": 2.5, "fidelity_worst_rmse": 4.0}}}))
    written = tmp_path / "models" / "detail4x.safetensors"
    assert main(["ship", "--out", str(run), "--card", str(card), "--display", str(display), "--model-out", str(written),
                 "--back-projection-steps", "2"]) == 0
    shipped = read_upsampler(written)
    assert shipped.card["name"] == "detail4x" and shipped.card["licence"] == "CC-BY-4.0"
    assert shipped.card["training"]["command"] == "train ..." and shipped.card["training"]["steps"] == 2
    assert shipped.card["metrics"] == {"landscapes": {"fine_display_over_floor": 2.5, "fidelity_worst_rmse": 4.0}}
    assert shipped.net.config.back_projection_steps == 2 and shipped.net.config.width == 4
    trained = load_checkpoint(run)["net"]
    assert all(torch.equal(value, trained[key]) for key, value in shipped.net.state_dict().items())
    # Without a report the card says the file is not measured yet.
    assert main(["ship", "--out", str(run), "--card", str(card), "--model-out", str(written)]) == 0
    assert "metrics" not in read_upsampler(written).card
    assert main(["ship", "--out", str(run), "--card", str(tmp_path / "none.json"), "--model-out", str(written)]) == 2
    # A shipped file is shipped again with other inference settings, its weights and training figures kept.
    again = tmp_path / "models" / "again.safetensors"
    assert main(["ship", "--weights", str(written), "--card", str(card), "--display", str(display), "--model-out", str(again),
                 "--residual-gain", "1.5", "--fidelity-limit", "6"]) == 0
    reshipped = read_upsampler(again)
    assert reshipped.net.config.residual_gain == 1.5 and reshipped.net.config.fidelity_limit == 6
    assert reshipped.card["training"]["steps"] == 2 and reshipped.card["training"]["command"] == "train ..."
    assert all(torch.equal(value, trained[key]) for key, value in reshipped.net.state_dict().items())
    # Several files of one network ship their mean; files of other shapes are refused.
    first = save_upsampler(tmp_path / "a.safetensors", untrained_upsampler(seed=1).net, {"training": {"steps": 10}})
    second = save_upsampler(tmp_path / "b.safetensors", untrained_upsampler(seed=2).net, {"training": {"steps": 20}})
    assert main(["ship", "--weights", str(first), str(second), "--card", str(card), "--model-out", str(again)]) == 0
    mean = read_upsampler(again)
    for key, value in mean.net.state_dict().items():
        expected = (read_upsampler(first).net.state_dict()[key] + read_upsampler(second).net.state_dict()[key]) / 2
        assert torch.allclose(value, expected), key
    assert mean.card["training"]["averaged_steps"] == [10, 20] and mean.card["training"]["steps"] == 20
    assert mean.card["name"] == "detail4x"  # the card's text
    assert main(["ship", "--weights", str(first), str(written), "--card", str(card), "--model-out", str(again)]) == 2
    # Either a run or a file, not both or neither.
    assert main(["ship", "--card", str(card), "--model-out", str(again)]) == 2
    assert main(["ship", "--out", str(run), "--weights", str(written), "--card", str(card), "--model-out", str(again)]) == 2
