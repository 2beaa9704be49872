"""GAN and encoder training at tiny sizes: steps, exact resume, recipe settings, the critic's tone, the
reconstruction term, many processes."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_training import TINY, TINY_FLAGS

from demo.cli import main
from demo.data.landscapes import LandscapeConfig, describe_landscape, render_batch
from demo.engine.checkpoint import load_model
from demo.engine.filters import bright_blob_weights
from demo.engine.networks import Discriminator, tone_curve
from demo.errors import UserError
from demo.train.common import sample_prior
from demo.train.gan.encoder import EncoderConfig, EncoderTrainer
from demo.train.gan.trainer import GanConfig, translate
from demo.train.gan.config import settle_config
from demo.train.gan.parts import dark_boost_weights, reconstruction_loss
from demo.train.gan.run import open_run, train_gan
from demo.train.gan.metrics import frechet_distance_lowres, mean_pairwise_rms, nearest_neighbour_rms


def same_state(a: dict, b: dict) -> None:
    for net in ("G", "D", "G_ema"):
        for key, value in a[net].items():
            assert torch.equal(value, b[net][key]), f"{net}.{key}"
    for opt in ("opt_g", "opt_d"):
        for index, slot in a[opt]["state"].items():
            for name, value in slot.items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(b[opt]["state"][index][name])), f"{opt}.{index}.{name}"
    assert torch.equal(a["rng"]["generator"], b["rng"]["generator"])


def test_resumed_run_is_identical_to_an_uninterrupted_one(landscapes16, tmp_path):
    torch.set_num_threads(1)
    straight = train_gan(open_run(tmp_path / "a", TINY, landscapes16), tmp_path / "a", steps=4, progress=False)
    first = train_gan(open_run(tmp_path / "b", TINY, landscapes16), tmp_path / "b", steps=2, progress=False)
    assert first.step == 2
    resumed = open_run(tmp_path / "b", TINY, landscapes16)
    assert resumed.step == 2 and len(resumed.history) == 2
    train_gan(resumed, tmp_path / "b", steps=4, progress=False)
    same_state(straight.state_dict(), resumed.state_dict())
    assert (tmp_path / "b" / "samples" / "step_0000004.png").exists()
    assert (tmp_path / "b" / "log.csv").read_text().startswith("step,loss_d")


def test_a_run_that_died_without_saving_resumes_with_one_log_row_per_step(landscapes16, tmp_path):
    # Rows at steps 10 and 20, a checkpoint at 15, then the process dies (no KeyboardInterrupt: nothing saved).
    trainer = open_run(tmp_path, TINY, landscapes16)
    train_step = trainer.train_step

    def dies_after_step_20():
        if trainer.step == 20:
            raise RuntimeError("power cut")
        return train_step()

    trainer.train_step = dies_after_step_20
    with pytest.raises(RuntimeError, match="power cut"):
        train_gan(trainer, tmp_path, steps=30, checkpoint_every=15, sample_every=0, progress=False)
    steps_logged = [row.split(",")[0] for row in (tmp_path / "log.csv").read_text().splitlines()[1:]]
    assert steps_logged == ["10", "20"]
    with (tmp_path / "log.csv").open("a") as log:  # and a write torn by the power cut: no newline, NUL bytes
        log.write("\x00\x00")

    resumed = open_run(tmp_path, TINY, landscapes16)
    assert resumed.step == 15
    train_gan(resumed, tmp_path, steps=30, checkpoint_every=15, sample_every=0, progress=False)
    steps_logged = [row.split(",")[0] for row in (tmp_path / "log.csv").read_text().splitlines()[1:]]
    assert steps_logged == ["10", "20", "30"]


def test_training_changes_the_nets_and_losses_are_finite(landscapes16, tmp_path):
    trainer = open_run(tmp_path, TINY, landscapes16)
    before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    train_gan(trainer, tmp_path, steps=3, progress=False)
    assert any(not torch.equal(before[k], v) for k, v in trainer.G.state_dict().items())
    assert all(np.isfinite(row[1:]).all() for row in trainer.history)


def test_resume_with_other_settings_is_refused(landscapes16, tmp_path):
    train_gan(open_run(tmp_path, TINY, landscapes16), tmp_path, steps=1, progress=False)
    other = GanConfig(resolution=16, nz=16, base=8, d_base=8, batch=4)
    with pytest.raises(UserError, match="other settings"):
        open_run(tmp_path, other, landscapes16)


def shifted(image: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """[C, H, W] moved down by dy and right by dx pixels (negative: up, left), zero-filled."""
    out = torch.zeros_like(image)
    _, h, w = image.shape
    out[:, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = \
        image[:, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)]
    return out


def test_translate_shifts_content_and_keeps_shape():
    # Every pixel distinct and non-zero, so an image matches one shift only.
    x = torch.arange(1, 16 * 3 * 8 * 8 + 1, dtype=torch.float32).reshape(16, 3, 8, 8)
    y = translate(x, ratio=0.25, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape
    pad = 2  # 0.25 * 8
    offsets = []
    for original, moved in zip(x, y):
        matches = [(dy, dx) for dy in range(-pad, pad + 1) for dx in range(-pad, pad + 1)
                   if torch.equal(moved, shifted(original, dy, dx))]
        assert len(matches) == 1, "each image is its original moved by whole pixels, at most 2 each way"
        offsets.append(matches[0])
    assert any(offset != (0, 0) for offset in offsets)  # it does move content
    assert len(set(offsets)) > 4  # each image draws its own shift
    assert translate(x, ratio=0.0, generator=torch.Generator()) is x


def test_metrics_see_collapse_and_copies(landscapes16):
    assert mean_pairwise_rms(landscapes16[:1].repeat(5, 1, 1, 1)) == 0.0
    assert mean_pairwise_rms(landscapes16[:8]) > 10
    assert nearest_neighbour_rms(landscapes16[:4], landscapes16) == 0.0
    assert nearest_neighbour_rms(landscapes16[:4], landscapes16[4:]) > 1
    assert abs(frechet_distance_lowres(landscapes16, landscapes16, size=4)) < 1e-6
    darker = (landscapes16.float() * 0.5).to(torch.uint8)
    assert frechet_distance_lowres(darker, landscapes16, size=4) > 0.1


def test_minutes_stop_a_run_at_a_step_that_resumes(landscapes16_dir, tmp_path):
    run = tmp_path / "run"
    assert main(["train", "gan", "--data", str(landscapes16_dir), "--out", str(run), "--steps", "1000", "--minutes", "0",
                 "--checkpoint-every", "1000", *TINY_FLAGS]) == 0
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 10  # time is checked every 10 steps


def test_encoder_training_lowers_its_loss(landscapes16, tmp_path):
    torch.manual_seed(0)
    gan = train_gan(open_run(tmp_path, TINY, landscapes16), tmp_path, steps=2, progress=False)
    G = gan.ready_ema()
    trainer = EncoderTrainer(EncoderConfig(base=8, batch=16, lr=2e-3), G, prior="uniform")
    losses = [trainer.train_step()["loss"] for _ in range(60)]
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])


def test_two_processes_under_torchrun_train_one_model_and_rank_0_writes(landscapes16_dir, tmp_path):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "demo", "train", "gan", "--data", str(landscapes16_dir), "--out", str(run), "--steps", "3",
               "--checkpoint-every", "2", "--sample-every", "2", "--device", "cpu", "--init", "none", *TINY_FLAGS]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=env, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr[-2000:]

    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert state["step"] == 3 and state["world_size"] == 2
    assert len(state["rank_digests"]) == 2 and state["rank_digests"][0] == state["rank_digests"][1]  # same weights
    assert not torch.equal(state["rng_ranks"][0], state["rng_ranks"][1])  # each rank drew its own batches
    assert state["images_seen"] == 3 * 8 * 2
    rows = (run / "log.csv").read_text().splitlines()
    assert rows[0].endswith(",seconds,world_size") and [r.split(",")[0] for r in rows[1:]] == ["3"]
    assert all(r.endswith(",2") for r in rows[1:])  # one writer: no duplicated rows
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "latest.png", "log.csv", "samples"]


def test_sqrt_tone_gives_dark_detail_more_contrast_and_keeps_the_range():
    x = torch.linspace(-1, 1, 201).reshape(1, 1, 1, 201)
    toned = tone_curve(x, "sqrt")
    assert torch.equal(tone_curve(x, "linear"), x)
    assert toned[..., 0].item() == pytest.approx(-1) and toned[..., -1].item() == pytest.approx(1)
    assert bool((toned.diff(dim=-1) > 0).all())  # monotone: no two levels merge
    slope = toned.diff(dim=-1) / x.diff(dim=-1)
    assert slope[..., 5].item() > 2 and slope[..., -5].item() < 0.6  # near black vs near white


def test_a_sqrt_tone_critic_trains_exports_and_resumes_only_with_its_tone(landscapes16_dir, landscapes16, tmp_path):
    run, model = tmp_path / "run", tmp_path / "models" / "tiny16"
    flags = ["train", "gan", "--data", str(landscapes16_dir), "--out", str(run), *TINY_FLAGS, "--d-tone", "sqrt"]
    assert main([*flags, "--steps", "2", "--export", str(model)]) == 0
    loaded = load_model(model.with_suffix(".safetensors"))
    assert loaded.D.config.input_tone == "sqrt"
    assert json.loads(model.with_suffix(".json").read_text())["discriminator"]["input_tone"] == "sqrt"
    dark = torch.full((1, 3, 16, 16), -0.9)
    linear = Discriminator(dataclasses.replace(loaded.D.config, input_tone="linear"))
    linear.load_state_dict(loaded.D.state_dict())
    linear.eval()
    with torch.no_grad():  # The same weights judge a dark image differently through the tone curve.
        assert not torch.allclose(loaded.D(dark), linear(dark))
    with pytest.raises(UserError, match="d_tone"):
        open_run(run, GanConfig(resolution=16, nz=16, base=8, d_base=8, batch=8, translate=0.125), landscapes16)
    # A new run from the file must look through the same curve its D learned with.
    with pytest.raises(UserError, match="--d-tone sqrt"):
        open_run(tmp_path / "new", TINY, landscapes16, init=model.with_suffix(".safetensors"))


def test_a_run_saved_before_the_tone_setting_resumes_as_linear(landscapes16, tmp_path):
    train_gan(open_run(tmp_path, TINY, landscapes16), tmp_path, steps=1, progress=False)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    del state["config"]["d_tone"]
    torch.save(state, tmp_path / "checkpoint.pt")
    assert open_run(tmp_path, TINY, landscapes16).step == 1
    with pytest.raises(UserError, match="d_tone"):
        open_run(tmp_path, dataclasses.replace(TINY, d_tone="sqrt"), landscapes16)


def test_a_reconstruction_term_trains_an_encoder_beside_g_that_resumes_and_ships(landscapes16_dir, landscapes16, tmp_path):
    config = dataclasses.replace(TINY, recon_weight=1.0)
    straight = train_gan(open_run(tmp_path / "a", config, landscapes16), tmp_path / "a", steps=4, progress=False)
    first = open_run(tmp_path / "b", config, landscapes16)
    E_before = {k: v.clone() for k, v in first.E.state_dict().items()}
    train_gan(first, tmp_path / "b", steps=2, progress=False)
    assert any(not torch.equal(E_before[k], v) for k, v in first.E.state_dict().items())  # E learns
    resumed = train_gan(open_run(tmp_path / "b", config, landscapes16), tmp_path / "b", steps=4, progress=False)
    same_state(straight.state_dict(), resumed.state_dict())
    assert all(torch.equal(v, resumed.E.state_dict()[k]) for k, v in straight.E.state_dict().items())
    header, *rows = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert header.split(",")[5] == "loss_recon" and float(rows[-1].split(",")[5]) > 0

    # The export ships that E; a new run continues from the file with it.
    model = tmp_path / "models" / "tiny16"
    flags = ["train", "export", "--data", str(landscapes16_dir), "--out", str(tmp_path / "b"), "--recon-weight", "1", "--translate", "0.125",
             "--export", str(model), *TINY_FLAGS]
    assert main(flags) == 0
    loaded = load_model(model.with_suffix(".safetensors"))
    assert all(torch.equal(v, resumed.E.state_dict()[k]) for k, v in loaded.E.state_dict().items())
    card = json.loads(model.with_suffix(".json").read_text())
    assert "L1(G(E(x)), x)" in card["training"]["encoder"]["trained"] and card["metrics"]["encoder_rmse_samples"] > 0
    assert main([*flags, "--keep-encoder"]) == 2  # a run with its own E keeps no other
    again = open_run(tmp_path / "c", config, landscapes16, init=model.with_suffix(".safetensors"))
    assert all(torch.equal(v, loaded.E.state_dict()[k]) for k, v in again.E.state_dict().items())


def test_the_reconstruction_term_can_weigh_dark_detail_through_the_sqrt_tone_curve(landscapes16, tmp_path):
    # The same error of 0.04 (about 5/255) at black and at white: equal in linear L1, about 7x apart through sqrt.
    black, white = torch.full((1, 3, 4, 4), -1.0), torch.full((1, 3, 4, 4), 0.96)
    for tone, ratio in (("linear", 1.0), ("sqrt", 7.0)):
        at_black = reconstruction_loss(black + 0.04, black, tone=tone).item()
        at_white = reconstruction_loss(white + 0.04, white, tone=tone).item()
        assert at_black / at_white == pytest.approx(ratio, rel=0.15), tone
    # The trainer takes it through the configured curve: same weights and batch, another loss.
    linear = dataclasses.replace(TINY, recon_weight=1.0)
    through_sqrt = dataclasses.replace(linear, recon_tone="sqrt")
    first_linear = open_run(tmp_path / "linear", linear, landscapes16).train_step()["loss_recon"]
    first_sqrt = open_run(tmp_path / "sqrt", through_sqrt, landscapes16).train_step()["loss_recon"]
    assert first_sqrt != pytest.approx(first_linear, rel=0.02)
    with pytest.raises(ValueError, match="recon_tone"):
        dataclasses.replace(linear, recon_tone="gamma")
    # A run keeps its tone curve.
    train_gan(open_run(tmp_path / "sqrt", through_sqrt, landscapes16), tmp_path / "sqrt", steps=1, progress=False)
    with pytest.raises(UserError, match="recon_tone"):
        open_run(tmp_path / "sqrt", linear, landscapes16)


def test_the_reconstruction_term_can_draw_night_scenes_more_often_than_d_sees_them(tmp_path):
    # Dark means night: of 64 landscapes (8 nights at these seeds), the weights pick out exactly the nights.
    seeds = range(64)
    images = torch.from_numpy(render_batch(seeds, config=LandscapeConfig(size=16))).permute(0, 3, 1, 2).contiguous()
    nights = torch.tensor([describe_landscape(seed)["sky"] == "night" for seed in seeds])
    weights = dark_boost_weights(images, boost=4.0)
    assert nights.sum() == 8 and torch.equal(weights == 4.0, nights) and torch.all(weights[~nights] == 1.0)
    # Boosted, the reconstruction batch holds 8*4 / (8*4 + 56) = 36% nights; D's batch keeps the data's 12.5%.
    trainer = open_run(tmp_path / "boost", dataclasses.replace(TINY, recon_weight=1.0, recon_dark_boost=4.0), images)
    night_means = images[nights].float().mean(dim=(1, 2, 3)) / 127.5 - 1  # [8], in [-1, 1]

    def night_share(batches: list[torch.Tensor]) -> float:
        means = torch.cat(batches).mean(dim=(1, 2, 3))  # [n] (flips keep an image's mean)
        return torch.isclose(means[:, None], night_means[None], atol=1e-4).any(dim=1).float().mean().item()
    assert night_share([trainer.real_batch(trainer.recon_weights) for _ in range(100)]) == pytest.approx(0.36, abs=0.05)
    assert night_share([trainer.real_batch() for _ in range(100)]) == pytest.approx(0.125, abs=0.04)
    assert trainer.train_step()["loss_recon"] > 0
    # Unboosted, the term reconstructs D's own batch, as before.
    assert open_run(tmp_path / "plain", dataclasses.replace(TINY, recon_weight=1.0), images).recon_weights is None
    with pytest.raises(ValueError, match="recon_dark_boost"):
        dataclasses.replace(TINY, recon_weight=1.0, recon_dark_boost=0.5)
    with pytest.raises(ValueError, match="recon_weight 0 has no such term"):  # a boost that would do nothing
        dataclasses.replace(TINY, recon_dark_boost=4.0)


def test_the_reconstruction_term_can_weigh_a_moon_above_its_few_pixels(landscapes16, tmp_path):
    # A night sky at level 0.05 (in 0..1) with a 3x3 moon at 0.9 and a one-pixel star at 0.6.
    sky = torch.full((1, 3, 32, 32), 0.05)
    sky[..., 8:11, 8:11] = 0.9
    sky[..., 24, 20] = 0.6
    night = sky * 2 - 1  # [1, 3, 32, 32] in [-1, 1]
    weights = bright_blob_weights(night, gain=4.0)[0, 0]  # [32, 32]
    moon, star, flat = weights[9, 9].item(), weights[24, 20].item(), weights[28, 4].item()
    assert moon > 2 * star > 2 and flat == pytest.approx(1.0)
    # The same error costs more on the moon than on open sky, and gain 0 is the plain mean.
    on_moon, on_sky = night.clone(), night.clone()
    on_moon[..., 8:11, 8:11] -= 0.5
    on_sky[..., 20:23, 2:5] -= 0.5
    weighed = [reconstruction_loss(drawn, night, tone="linear", blob_gain=4.0).item() for drawn in (on_moon, on_sky)]
    plain = [reconstruction_loss(drawn, night, tone="linear").item() for drawn in (on_moon, on_sky)]
    assert weighed[0] > 3 * weighed[1] and plain[0] == pytest.approx(plain[1])
    assert reconstruction_loss(on_moon, night, tone="sqrt", blob_gain=0.0) == reconstruction_loss(on_moon, night, tone="sqrt")
    # A run takes the gain as a recipe setting, and refuses it without a reconstruction term.
    trainer = open_run(tmp_path, dataclasses.replace(TINY, recon_weight=1.0, recon_blob_gain=4.0), landscapes16)
    assert trainer.train_step()["loss_recon"] > 0
    with pytest.raises(ValueError, match="recon_blob_gain must be >= 0"):
        dataclasses.replace(TINY, recon_weight=1.0, recon_blob_gain=-1.0)
    with pytest.raises(ValueError, match="recon_weight 0 has no such term"):
        dataclasses.replace(TINY, recon_blob_gain=4.0)


def test_recipe_settings_come_from_the_flag_else_the_run_else_the_model_file_else_the_default():
    run = {"recon_weight": 1.0, "d_tone": "sqrt", "lr_g": 1e-4, "lr_d": 1e-4}
    model = {"recon_weight": 2.0, "translate": 0.125, "base": 32}
    flags = {"recon_weight": None, "translate": None, "d_tone": None, "lr": None, "batch": 16, "lr_e": 2.5e-4}
    config, sources = settle_config(flags, resolution=16, seed=3, run=run, model=model)
    assert (config.recon_weight, config.d_tone, config.lr_g, config.lr_d) == (1.0, "sqrt", 1e-4, 1e-4)  # the run's
    assert config.translate == 0.125 and config.batch == 16 and config.seed == 3 and config.nz == GanConfig().nz
    assert config.lr_e == 2.5e-4  # E's rate has a flag of its own
    assert sources == {"recon_weight": "run", "d_tone": "run", "lr_g": "run", "lr_d": "run", "translate": "model",
                       "batch": "flag", "lr_e": "flag"}  # base 32 is the default: not listed


def test_the_ema_gs_batchnorm_statistics_come_from_the_mix_it_was_trained_on(landscapes16, tmp_path):
    # With a reconstruction term G's training batches held prior samples beside E(x) of real landscapes16; the shipped
    # statistics are taken over that mix, not over prior samples alone (which drew nights far worse from E(x)).
    trainer = open_run(tmp_path, dataclasses.replace(TINY, recon_weight=1.0, recon_dark_boost=4.0), landscapes16)
    trainer.train_step()
    rng_before = trainer.generator.get_state()
    first_norm = next(m for m in trainer.G_ema.modules() if isinstance(m, torch.nn.BatchNorm2d))
    seen: list[torch.Tensor] = []
    hook = first_norm.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    G = trainer.ready_ema(batches=1)
    assert torch.equal(trainer.generator.get_state(), rng_before)  # the training RNG is left alone
    (batch,) = seen  # [512, C, h, w]: what the first BatchNorm saw
    assert torch.allclose(first_norm.running_mean, batch.mean(dim=(0, 2, 3)), atol=1e-5)
    # That batch is 256 prior samples, then E(x) of 256 (night-boosted) real landscapes16, drawn from one generator.
    generator = torch.Generator().manual_seed(TINY.seed + 1)
    z = sample_prior(256, TINY.nz, prior=TINY.prior, generator=generator)  # [256, nz]
    mix = torch.cat([z, trainer.encoded_reals(256, generator)])  # [512, nz]
    seen.clear()
    with torch.no_grad():
        G(mix)  # eval mode; the first BatchNorm's input does not depend on its statistics
    hook.remove()
    assert torch.allclose(seen[0], batch, atol=1e-6)
    assert not torch.allclose(first_norm.running_mean, batch[:256].mean(dim=(0, 2, 3)), atol=1e-3)
    # Without a reconstruction term the statistics come from prior samples alone.
    plain = open_run(tmp_path / "plain", TINY, landscapes16)
    norm = next(m for m in plain.G_ema.modules() if isinstance(m, torch.nn.BatchNorm2d))
    seen.clear()
    hook = norm.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    plain.ready_ema(batches=1)
    hook.remove()
    assert seen[0].shape[0] == 256
