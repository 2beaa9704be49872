"""GAN and encoder training at tiny sizes: steps, exact resume, export, encoder learning."""

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

from demo.cli import main
from demo.data.landscapes import LandscapeConfig, describe_landscape, render_batch
from demo.engine.checkpoint import load_model
from demo.engine.networks import Discriminator, tone_curve
from demo.errors import UserError
from demo.train.common import load_images, sample_prior
from demo.train.encoder import EncoderConfig, EncoderTrainer
from demo.train.export import dataset_lineage
from demo.train.gan import GanConfig, translate
from demo.train.gan_run import open_run, train_gan
from demo.train.provenance import Provenance
from demo.train.gan_config import settle_config
from demo.train.gan_parts import dark_boost_weights, reconstruction_loss
from demo.train.metrics import frechet_distance_lowres, mean_pairwise_rms, nearest_neighbour_rms
from demo.train.model_file import load_raw_generator_state

TINY = GanConfig(resolution=16, nz=16, base=8, d_base=8, batch=8, translate=0.125)
TINY_FLAGS = ["--base", "8", "--d-base", "8", "--batch", "8", "--nz", "16", "--no-progress", "--threads", "1",
              "--measure-count", "64", "--calibration-steps", "20"]


@pytest.fixture(scope="module")
def images() -> torch.Tensor:
    array = render_batch(range(32), config=LandscapeConfig(size=16))  # [32, 16, 16, 3]
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    assert main(["data", "landscapes", "--count", "32", "--size", "16", "--out", str(out)]) == 0
    return out


def _same_state(a: dict, b: dict) -> None:
    for net in ("G", "D", "G_ema"):
        for key, value in a[net].items():
            assert torch.equal(value, b[net][key]), f"{net}.{key}"
    for opt in ("opt_g", "opt_d"):
        for index, slot in a[opt]["state"].items():
            for name, value in slot.items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(b[opt]["state"][index][name])), f"{opt}.{index}.{name}"
    assert torch.equal(a["rng"]["generator"], b["rng"]["generator"])


def test_resumed_run_is_identical_to_an_uninterrupted_one(images, tmp_path):
    torch.set_num_threads(1)
    straight = train_gan(open_run(tmp_path / "a", TINY, images), tmp_path / "a", steps=4, progress=False)
    first = train_gan(open_run(tmp_path / "b", TINY, images), tmp_path / "b", steps=2, progress=False)
    assert first.step == 2
    resumed = open_run(tmp_path / "b", TINY, images)
    assert resumed.step == 2 and len(resumed.history) == 2
    train_gan(resumed, tmp_path / "b", steps=4, progress=False)
    _same_state(straight.state_dict(), resumed.state_dict())
    assert (tmp_path / "b" / "samples" / "step_0000004.png").exists()
    assert (tmp_path / "b" / "log.csv").read_text().startswith("step,loss_d")


def test_training_changes_the_nets_and_losses_are_finite(images, tmp_path):
    trainer = open_run(tmp_path, TINY, images)
    before = {k: v.clone() for k, v in trainer.G.state_dict().items()}
    train_gan(trainer, tmp_path, steps=3, progress=False)
    assert any(not torch.equal(before[k], v) for k, v in trainer.G.state_dict().items())
    assert all(np.isfinite(row[1:]).all() for row in trainer.history)


def test_resume_with_other_settings_is_refused(images, tmp_path):
    train_gan(open_run(tmp_path, TINY, images), tmp_path, steps=1, progress=False)
    other = GanConfig(resolution=16, nz=16, base=8, d_base=8, batch=4)
    with pytest.raises(UserError, match="other settings"):
        open_run(tmp_path, other, images)


def test_translate_shifts_content_and_keeps_shape():
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    y = translate(x, ratio=0.25, generator=torch.Generator().manual_seed(0))
    assert y.shape == x.shape
    assert translate(x, ratio=0.0, generator=torch.Generator()) is x


def test_metrics_see_collapse_and_copies(images):
    assert mean_pairwise_rms(images[:1].repeat(5, 1, 1, 1)) == 0.0
    assert mean_pairwise_rms(images[:8]) > 10
    assert nearest_neighbour_rms(images[:4], images) == 0.0
    assert nearest_neighbour_rms(images[:4], images[4:]) > 1
    assert abs(frechet_distance_lowres(images, images, size=4)) < 1e-6
    darker = (images.float() * 0.5).to(torch.uint8)
    assert frechet_distance_lowres(darker, images, size=4) > 0.1


def test_train_command_resumes_and_exports_a_loadable_model(data_dir, tmp_path, capsys):
    run = tmp_path / "run"
    model = tmp_path / "models" / "tiny16"
    base = ["train", "gan", "--data", str(data_dir), "--out", str(run), *TINY_FLAGS]
    assert main([*base, "--steps", "2"]) == 0
    assert main([*base, "--steps", "3", "--export", str(model)]) == 0
    assert "resuming" in capsys.readouterr().out
    loaded = load_model(model.with_suffix(".safetensors"))
    assert loaded.D is not None and loaded.E is None
    card = json.loads(model.with_suffix(".json").read_text())
    assert card["prior"] == "uniform" and card["training"]["steps"] == 3
    assert card["metrics"]["diversity_data_rms"] > 0 and "CC0" in card["licence"]
    assert (tmp_path / "models" / "tiny16_samples.png").exists()
    with torch.no_grad():
        out = loaded.G(torch.rand(2, 16) * 2 - 1)
    assert out.shape == (2, 3, 16, 16)


def test_minutes_stop_a_run_at_a_step_that_resumes(data_dir, tmp_path):
    run = tmp_path / "run"
    assert main(["train", "gan", "--data", str(data_dir), "--out", str(run), "--steps", "1000", "--minutes", "0",
                 "--checkpoint-every", "1000", *TINY_FLAGS]) == 0
    assert torch.load(run / "checkpoint.pt", weights_only=True)["step"] == 10  # time is checked every 10 steps


def test_export_without_a_run_is_a_user_error(data_dir, tmp_path, capsys):
    code = main(["train", "export", "--data", str(data_dir), "--out", str(tmp_path / "none"), *TINY_FLAGS])
    assert code == 2 and "no checkpoint" in capsys.readouterr().err


def test_encoder_training_lowers_its_loss(images, tmp_path):
    torch.manual_seed(0)
    gan = train_gan(open_run(tmp_path, TINY, images), tmp_path, steps=2, progress=False)
    G = gan.ready_ema()
    trainer = EncoderTrainer(EncoderConfig(base=8, batch=16, lr=2e-3), G, prior="uniform")
    losses = [trainer.train_step()["loss"] for _ in range(60)]
    assert np.mean(losses[-10:]) < 0.7 * np.mean(losses[:10])


def test_encoder_command_stores_e_and_its_figures(data_dir, tmp_path):
    model = tmp_path / "tiny16"
    assert main(["train", "gan", "--data", str(data_dir), "--out", str(tmp_path / "run"), "--steps", "2",
                 "--export", str(model), *TINY_FLAGS]) == 0
    enc = ["train", "encoder", "--model", str(model.with_suffix(".safetensors")), "--out", str(tmp_path / "enc"),
           "--d-base", "8", "--batch", "8", "--no-progress"]
    assert main([*enc, "--steps", "3"]) == 0
    assert main([*enc, "--steps", "5"]) == 0  # resumes, same G
    loaded = load_model(model.with_suffix(".safetensors"))
    assert loaded.E is not None and loaded.D is not None
    assert loaded.card.training["encoder"]["steps"] == 5
    assert 0 < loaded.card.metrics["encoder_rmse_unseen_real"] < 255
    with torch.no_grad():
        z = loaded.E(torch.zeros(1, 3, 16, 16))
    assert z.shape == (1, 16) and z.abs().max() <= 1

    # A new encoder run can start from that encoder.
    assert main(["train", "encoder", "--model", str(model.with_suffix(".safetensors")), "--out", str(tmp_path / "enc2"),
                 "--d-base", "8", "--batch", "8", "--no-progress", "--steps", "1",
                 "--init", str(model.with_suffix(".safetensors"))]) == 0
    assert load_model(model.with_suffix(".safetensors")).card.training["encoder"]["init"].endswith("tiny16.safetensors")


def test_export_ships_the_raw_generator_and_keeps_card_fields_it_does_not_own(data_dir, tmp_path):
    model = tmp_path / "tiny16"
    model.with_suffix(".json").parent.mkdir(parents=True, exist_ok=True)
    model.with_suffix(".json").write_text(json.dumps({"name": "tiny16", "start_seeds": [3, 1, 4]}))
    assert main(["train", "gan", "--data", str(data_dir), "--out", str(tmp_path / "run"), "--steps", "2",
                 "--export", str(model), *TINY_FLAGS]) == 0
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    raw = load_raw_generator_state(model.with_suffix(".safetensors"))
    assert raw is not None and raw.keys() == state["G"].keys()
    assert all(torch.equal(raw[k], state["G"][k]) for k in raw)
    assert json.loads(model.with_suffix(".json").read_text())["start_seeds"] == [3, 1, 4]
    assert load_model(model.with_suffix(".safetensors")).card.training["steps"] == 2


def test_a_run_without_runs_folder_continues_from_the_shipped_model(data_dir, tmp_path, capsys):
    model = tmp_path / "models" / "tiny16"
    flags = ["--data", str(data_dir), *TINY_FLAGS]
    assert main(["train", "gan", "--out", str(tmp_path / "old"), "--steps", "3", "--export", str(model), *flags]) == 0
    shipped = load_model(model.with_suffix(".safetensors"))
    raw = load_raw_generator_state(model.with_suffix(".safetensors"))

    # A new machine: no run folder, only the model file. The run starts at the shipped step, from its nets.
    fresh = tmp_path / "new"
    config = GanConfig(resolution=16, nz=16, base=8, d_base=8, batch=8)
    images = load_images(data_dir, resolution=16)
    trainer = open_run(fresh, config, images, init=model.with_suffix(".safetensors"))
    assert trainer.step == trainer.adam_start == 3 and not trainer.history
    assert all(torch.equal(v, raw[k]) for k, v in trainer.G.state_dict().items())
    assert all(torch.equal(v, shipped.D.state_dict()[k]) for k, v in trainer.D.state_dict().items())
    assert all(torch.equal(v, shipped.G.state_dict()[k]) for k, v in trainer.G_ema.state_dict().items())
    assert not trainer.opt_g.state  # Adam starts fresh

    assert main(["train", "gan", "--out", str(fresh), "--steps", "5", "--init", str(model.with_suffix(".safetensors")),
                 *flags]) == 0
    assert "continues from" in capsys.readouterr().out
    assert torch.load(fresh / "checkpoint.pt", weights_only=True)["step"] == 5


def test_continuing_from_a_model_with_other_widths_is_a_user_error(data_dir, tmp_path, capsys):
    model = tmp_path / "tiny16"
    flags = ["--data", str(data_dir), *TINY_FLAGS]
    assert main(["train", "gan", "--out", str(tmp_path / "old"), "--steps", "1", "--export", str(model), *flags]) == 0
    code = main(["train", "gan", "--out", str(tmp_path / "new"), "--steps", "2", "--init", str(model.with_suffix(".safetensors")),
                 *flags, "--base", "4"])
    assert code == 2 and "do not match" in capsys.readouterr().err


def test_two_processes_under_torchrun_train_one_model_and_rank_0_writes(data_dir, tmp_path):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
               "-m", "demo", "train", "gan", "--data", str(data_dir), "--out", str(run), "--steps", "3",
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


def test_export_can_keep_the_encoder_of_the_file_it_replaces(data_dir, tmp_path):
    model = tmp_path / "tiny16"
    run = ["train", "gan", "--data", str(data_dir), "--out", str(tmp_path / "run"), *TINY_FLAGS]
    assert main([*run, "--steps", "2", "--export", str(model)]) == 0
    assert main(["train", "encoder", "--model", str(model.with_suffix(".safetensors")), "--out", str(tmp_path / "enc"),
                 "--d-base", "8", "--batch", "8", "--no-progress", "--steps", "2"]) == 0
    E = load_model(model.with_suffix(".safetensors")).E
    assert main([*run, "--steps", "3", "--export", str(model), "--keep-encoder"]) == 0
    loaded = load_model(model.with_suffix(".safetensors"))
    assert loaded.card.training["steps"] == 3 and "kept" in loaded.card.training["encoder"]
    assert all(torch.equal(v, E.state_dict()[k]) for k, v in loaded.E.state_dict().items())
    assert 0 < loaded.card.metrics["encoder_rmse_samples"] < 255
    assert load_raw_generator_state(model.with_suffix(".safetensors")) is not None


def test_measure_prints_heldout_fd8_with_its_floor_and_spread(data_dir, tmp_path, capsys):
    model = tmp_path / "tiny16"
    assert main(["train", "gan", "--data", str(data_dir), "--out", str(tmp_path / "run"), "--steps", "1",
                 "--export", str(model), *TINY_FLAGS]) == 0
    capsys.readouterr()
    assert main(["train", "measure", "--model", str(model.with_suffix(".safetensors")), "--measure-count", "64"]) == 0
    figures = json.loads(capsys.readouterr().out)
    spread = figures["fd8_samples_vs_heldout_over_seeds"]
    assert spread["min"] <= figures["fd8_samples_vs_heldout"] <= spread["max"] and len(spread["seeds"]) == 5
    assert figures["fd8_heldout_vs_heldout"] < spread["min"]  # a 1-step generator is far from the data


def test_a_data_folder_of_either_kind_loads_and_an_empty_one_names_both_files(tmp_path):
    avatars = np.arange(2 * 16 * 16 * 3, dtype=np.uint64).astype(np.uint8).reshape(2, 16, 16, 3)
    (tmp_path / "avatars").mkdir()
    np.save(tmp_path / "avatars" / "avatars.npy", avatars)
    loaded = load_images(tmp_path / "avatars", resolution=16)  # [2, 3, 16, 16]
    assert torch.equal(loaded, torch.from_numpy(avatars).permute(0, 3, 1, 2))
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="landscapes.npy or avatars.npy"):
        load_images(tmp_path / "empty", resolution=16)


def test_colour_calibration_matches_the_data_mean_and_leaves_convolutions_alone():
    from demo.engine.networks import Generator
    from demo.train.calibrate import ColourCalibration, calibrate_colour_mean

    torch.manual_seed(0)
    G = Generator(TINY.generator_config()).eval().requires_grad_(False)  # as models load
    convolutions = {k: v.clone() for k, v in G.state_dict().items() if "weight" in k and v.dim() == 4}
    # Warm, bright data, far from an untrained G's mean.
    rng = np.random.default_rng(0)
    data = np.clip(rng.normal((190, 150, 100), 20, (64, 16, 16, 3)), 0, 255).astype(np.uint8)
    record = calibrate_colour_mean(G, torch.from_numpy(data).permute(0, 3, 1, 2), prior="uniform",
                                   generator=torch.Generator().manual_seed(0),
                                   config=ColourCalibration(steps=200, batch=64, lr=0.02, measure_count=256), progress=False)
    assert record["mean_gap_after"] < 0.35 * record["mean_gap_before"], record
    assert record["parameters"] == 2 * sum(TINY.generator_config().widths)
    assert all(torch.equal(G.state_dict()[k], v) for k, v in convolutions.items())
    assert not any(p.requires_grad for p in G.parameters())


def test_calibrate_command_rewrites_the_model_with_its_record_and_figures(data_dir, tmp_path, capsys):
    model = tmp_path / "tiny16"
    assert main(["train", "gan", "--data", str(data_dir), "--out", str(tmp_path / "run"), "--steps", "1",
                 "--export", str(model), *TINY_FLAGS, "--calibration-steps", "0"]) == 0
    file = model.with_suffix(".safetensors")
    before = load_model(file)
    assert "colour_calibration" not in before.card.training
    raw_before = load_raw_generator_state(file)
    assert main(["train", "calibrate", "--model", str(file), "--data", str(data_dir), *TINY_FLAGS]) == 0
    after = load_model(file)
    record = after.card.training["colour_calibration"]
    assert record["steps"] == 20 and record["mean_gap_after"] < record["mean_gap_before"]
    assert after.card.metrics["fd8_samples_vs_heldout"] != before.card.metrics["fd8_samples_vs_heldout"]
    raw_after = load_raw_generator_state(file)
    assert all(torch.equal(raw_before[k], raw_after[k]) for k in raw_before)  # what resuming needs is kept
    d_before, d_after = before.D.state_dict(), after.D.state_dict()
    assert d_before.keys() == d_after.keys() and all(torch.equal(d_before[k], d_after[k]) for k in d_before)


def test_sqrt_tone_gives_dark_detail_more_contrast_and_keeps_the_range():
    x = torch.linspace(-1, 1, 201).reshape(1, 1, 1, 201)
    toned = tone_curve(x, "sqrt")
    assert torch.equal(tone_curve(x, "linear"), x)
    assert toned[..., 0].item() == pytest.approx(-1) and toned[..., -1].item() == pytest.approx(1)
    assert bool((toned.diff(dim=-1) > 0).all())  # monotone: no two levels merge
    slope = toned.diff(dim=-1) / x.diff(dim=-1)
    assert slope[..., 5].item() > 2 and slope[..., -5].item() < 0.6  # near black vs near white


def test_a_sqrt_tone_critic_trains_exports_and_resumes_only_with_its_tone(data_dir, images, tmp_path):
    run, model = tmp_path / "run", tmp_path / "models" / "tiny16"
    flags = ["train", "gan", "--data", str(data_dir), "--out", str(run), *TINY_FLAGS, "--d-tone", "sqrt"]
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
        open_run(run, GanConfig(resolution=16, nz=16, base=8, d_base=8, batch=8, translate=0.125), images)
    # A new run from the file must look through the same curve its D learned with.
    with pytest.raises(UserError, match="--d-tone sqrt"):
        open_run(tmp_path / "new", TINY, images, init=model.with_suffix(".safetensors"))


def test_a_run_saved_before_the_tone_setting_resumes_as_linear(images, tmp_path):
    train_gan(open_run(tmp_path, TINY, images), tmp_path, steps=1, progress=False)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    del state["config"]["d_tone"]
    torch.save(state, tmp_path / "checkpoint.pt")
    assert open_run(tmp_path, TINY, images).step == 1
    with pytest.raises(UserError, match="d_tone"):
        open_run(tmp_path, dataclasses.replace(TINY, d_tone="sqrt"), images)


def test_a_reconstruction_term_trains_an_encoder_beside_g_that_resumes_and_ships(data_dir, images, tmp_path):
    config = dataclasses.replace(TINY, recon_weight=1.0)
    straight = train_gan(open_run(tmp_path / "a", config, images), tmp_path / "a", steps=4, progress=False)
    first = open_run(tmp_path / "b", config, images)
    E_before = {k: v.clone() for k, v in first.E.state_dict().items()}
    train_gan(first, tmp_path / "b", steps=2, progress=False)
    assert any(not torch.equal(E_before[k], v) for k, v in first.E.state_dict().items())  # E learns
    resumed = train_gan(open_run(tmp_path / "b", config, images), tmp_path / "b", steps=4, progress=False)
    _same_state(straight.state_dict(), resumed.state_dict())
    assert all(torch.equal(v, resumed.E.state_dict()[k]) for k, v in straight.E.state_dict().items())
    header, *rows = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert header.split(",")[5] == "loss_recon" and float(rows[-1].split(",")[5]) > 0

    # The export ships that E; a new run continues from the file with it.
    model = tmp_path / "models" / "tiny16"
    flags = ["train", "export", "--data", str(data_dir), "--out", str(tmp_path / "b"), "--recon-weight", "1", "--translate", "0.125",
             "--export", str(model), *TINY_FLAGS]
    assert main(flags) == 0
    loaded = load_model(model.with_suffix(".safetensors"))
    assert all(torch.equal(v, resumed.E.state_dict()[k]) for k, v in loaded.E.state_dict().items())
    card = json.loads(model.with_suffix(".json").read_text())
    assert "L1(G(E(x)), x)" in card["training"]["encoder"]["trained"] and card["metrics"]["encoder_rmse_samples"] > 0
    assert main([*flags, "--keep-encoder"]) == 2  # a run with its own E keeps no other
    again = open_run(tmp_path / "c", config, images, init=model.with_suffix(".safetensors"))
    assert all(torch.equal(v, loaded.E.state_dict()[k]) for k, v in again.E.state_dict().items())


def test_the_reconstruction_term_can_weigh_dark_detail_through_the_sqrt_tone_curve(images, tmp_path):
    # The same error of 0.04 (about 5/255) at black and at white: equal in linear L1, about 7x apart through sqrt.
    black, white = torch.full((1, 3, 4, 4), -1.0), torch.full((1, 3, 4, 4), 0.96)
    for tone, ratio in (("linear", 1.0), ("sqrt", 7.0)):
        at_black = reconstruction_loss(black + 0.04, black, tone=tone).item()
        at_white = reconstruction_loss(white + 0.04, white, tone=tone).item()
        assert at_black / at_white == pytest.approx(ratio, rel=0.15), tone
    # The trainer takes it through the configured curve: same weights and batch, another loss.
    linear = dataclasses.replace(TINY, recon_weight=1.0)
    through_sqrt = dataclasses.replace(linear, recon_tone="sqrt")
    first_linear = open_run(tmp_path / "linear", linear, images).train_step()["loss_recon"]
    first_sqrt = open_run(tmp_path / "sqrt", through_sqrt, images).train_step()["loss_recon"]
    assert first_sqrt != pytest.approx(first_linear, rel=0.02)
    with pytest.raises(ValueError, match="recon_tone"):
        dataclasses.replace(linear, recon_tone="gamma")
    # A run keeps its tone curve.
    train_gan(open_run(tmp_path / "sqrt", through_sqrt, images), tmp_path / "sqrt", steps=1, progress=False)
    with pytest.raises(UserError, match="recon_tone"):
        open_run(tmp_path / "sqrt", linear, images)


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


def test_recipe_settings_come_from_the_flag_else_the_run_else_the_model_file_else_the_default():
    run = {"recon_weight": 1.0, "d_tone": "sqrt", "lr_g": 1e-4, "lr_d": 1e-4}
    model = {"recon_weight": 2.0, "translate": 0.125, "base": 32}
    flags = {"recon_weight": None, "translate": None, "d_tone": None, "lr": None, "batch": 16}
    config, sources = settle_config(flags, resolution=16, seed=3, run=run, model=model)
    assert (config.recon_weight, config.d_tone, config.lr_g, config.lr_d) == (1.0, "sqrt", 1e-4, 1e-4)  # the run's
    assert config.translate == 0.125 and config.batch == 16 and config.seed == 3 and config.nz == GanConfig().nz
    assert sources == {"recon_weight": "run", "d_tone": "run", "lr_g": "run", "lr_d": "run", "translate": "model",
                       "batch": "flag"}  # base 32 is the default: not listed


def test_export_and_a_continued_run_need_no_recipe_flags_repeated(data_dir, tmp_path, capsys):
    run, model = tmp_path / "run", tmp_path / "models" / "tiny16"
    quiet = ["--no-progress", "--threads", "1", "--measure-count", "64", "--calibration-steps", "0"]
    assert main(["train", "gan", "--data", str(data_dir), "--out", str(run), "--steps", "2", "--recon-weight", "1",
                 "--recon-tone", "sqrt", *TINY_FLAGS]) == 0
    assert main(["train", "export", "--data", str(data_dir), "--out", str(run), "--export", str(model), *quiet]) == 0
    assert f"recon_weight=1.0 ({run}'s checkpoint)" in capsys.readouterr().out
    card = json.loads(model.with_suffix(".json").read_text())["training"]
    assert (card["config"]["base"], card["config"]["recon_tone"]) == (8, "sqrt") and "encoder" in card
    # A flag that contradicts the run is refused, naming the setting.
    assert main(["train", "gan", "--data", str(data_dir), "--out", str(run), "--steps", "3", "--recon-weight", "0",
                 *quiet]) == 2
    assert "recon_weight" in capsys.readouterr().err
    # A new run from the exported file keeps the recipe in its card.
    assert main(["train", "gan", "--data", str(data_dir), "--out", str(tmp_path / "next"), "--init",
                 str(model.with_suffix(".safetensors")), "--steps", "3", *quiet]) == 0
    saved = torch.load(tmp_path / "next" / "checkpoint.pt", weights_only=True)["config"]
    assert (saved["base"], saved["nz"], saved["recon_weight"], saved["recon_tone"]) == (8, 16, 1.0, "sqrt")
    # Its export tells the whole history: the first leg's chain, then this leg; E counts both legs' steps.
    again = tmp_path / "models" / "tiny16b"
    assert main(["train", "export", "--data", str(data_dir), "--out", str(tmp_path / "next"), "--export", str(again),
                 *quiet]) == 0
    second = json.loads(again.with_suffix(".json").read_text())["training"]
    assert second["continued_from"] == (f"{card['continued_from']} -> {model.with_suffix('.safetensors')} at step 2 "
                                        "(raw G as the raw G; its E; fresh Adam), trained to step 3")
    assert second["encoder"]["steps"] == 3 and second["encoder"]["trained"].startswith("beside G from step 0:")
    assert card["encoder"]["steps"] == 2


def test_a_card_names_each_legs_data_once():
    first = dataset_lineage("60000 landscapes (steps 0-8500).", "14336 landscapes", since_step=8500)
    assert first == "60000 landscapes (steps 0-8500). From step 8500 on: 14336 landscapes"
    # Continued again on the same data: nothing to add, however many legs.
    assert dataset_lineage(first, "14336 landscapes", since_step=13540) == first
    assert dataset_lineage(first, "2000 avatars", since_step=17513).endswith("From step 17513 on: 2000 avatars")


def test_the_ema_gs_batchnorm_statistics_come_from_the_mix_it_was_trained_on(images, tmp_path):
    # With a reconstruction term G's training batches held prior samples beside E(x) of real images; the shipped
    # statistics are taken over that mix, not over prior samples alone (which drew nights far worse from E(x)).
    trainer = open_run(tmp_path, dataclasses.replace(TINY, recon_weight=1.0, recon_dark_boost=4.0), images)
    trainer.train_step()
    rng_before = trainer.generator.get_state()
    first_norm = next(m for m in trainer.G_ema.modules() if isinstance(m, torch.nn.BatchNorm2d))
    seen: list[torch.Tensor] = []
    hook = first_norm.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().clone()))
    G = trainer.ready_ema(batches=1)
    assert torch.equal(trainer.generator.get_state(), rng_before)  # the training RNG is left alone
    (batch,) = seen  # [512, C, h, w]: what the first BatchNorm saw
    assert torch.allclose(first_norm.running_mean, batch.mean(dim=(0, 2, 3)), atol=1e-5)
    # That batch is 256 prior samples, then E(x) of 256 (night-boosted) real images, drawn from one generator.
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
    plain = open_run(tmp_path / "plain", TINY, images)
    norm = next(m for m in plain.G_ema.modules() if isinstance(m, torch.nn.BatchNorm2d))
    seen.clear()
    hook = norm.register_forward_pre_hook(lambda module, args: seen.append(args[0]))
    plain.ready_ema(batches=1)
    hook.remove()
    assert seen[0].shape[0] == 256


def test_a_checkpoint_saved_before_the_run_kept_its_models_history_reads_with_none():
    old = {"origin": "models/x.safetensors at step 5 (raw G as the raw G; fresh Adam)", "earlier_dataset": "100 scenes"}
    provenance = Provenance.from_state(old)
    assert (provenance.origin, provenance.earlier_dataset) == (old["origin"], "100 scenes")
    assert (provenance.lineage, provenance.encoder_steps_before) == ("", 0)
    assert provenance.continued_from(step=9) == old["origin"]  # no earlier chain to prepend
    assert Provenance.from_state(provenance.state_dict()) == provenance
