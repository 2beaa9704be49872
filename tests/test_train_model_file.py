"""Training's model files at tiny sizes: export, continuing from a shipped file, the encoder command,
calibration, held-out measures, card history."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from tiny_training import TINY, TINY_FLAGS

from demo.cli import main
from demo.engine.checkpoint import load_model
from demo.errors import UserError
from demo.train.common import load_images
from demo.train.shipping.export import dataset_lineage
from demo.train.gan.trainer import GanConfig
from demo.train.gan.config import recipe_changes
from demo.train.gan.run import open_run
from demo.train.shipping.model_file import load_raw_generator_state
from demo.train.shipping.provenance import Provenance


def test_train_command_resumes_and_exports_a_loadable_model(landscapes16_dir, tmp_path, capsys):
    run = tmp_path / "run"
    model = tmp_path / "models" / "tiny16"
    base = ["train", "gan", "--data", str(landscapes16_dir), "--out", str(run), *TINY_FLAGS]
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


def test_export_without_a_run_is_a_user_error(landscapes16_dir, tmp_path, capsys):
    code = main(["train", "export", "--data", str(landscapes16_dir), "--out", str(tmp_path / "none"), *TINY_FLAGS])
    assert code == 2 and "no checkpoint" in capsys.readouterr().err


def test_encoder_command_stores_e_and_its_figures(landscapes16_dir, tmp_path):
    model = tmp_path / "tiny16"
    assert main(["train", "gan", "--data", str(landscapes16_dir), "--out", str(tmp_path / "run"), "--steps", "2",
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


def test_export_ships_the_raw_generator_and_keeps_card_fields_it_does_not_own(landscapes16_dir, tmp_path):
    model = tmp_path / "tiny16"
    model.with_suffix(".json").parent.mkdir(parents=True, exist_ok=True)
    display = {"input_smoothing": 40.0, "fidelity_limit": 8.0}  # the G's display settings, chosen by hand
    model.with_suffix(".json").write_text(json.dumps({"name": "tiny16", "start_seeds": [3, 1, 4], "display": display}))
    assert main(["train", "gan", "--data", str(landscapes16_dir), "--out", str(tmp_path / "run"), "--steps", "2",
                 "--export", str(model), *TINY_FLAGS]) == 0
    state = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)
    raw = load_raw_generator_state(model.with_suffix(".safetensors"))
    assert raw is not None and raw.keys() == state["G"].keys()
    assert all(torch.equal(raw[k], state["G"][k]) for k in raw)
    assert json.loads(model.with_suffix(".json").read_text())["start_seeds"] == [3, 1, 4]
    card = load_model(model.with_suffix(".safetensors")).card
    assert card.training["steps"] == 2 and card.display == display


def test_export_keeps_the_solver_speed_figures_only_for_a_network_of_the_same_shape(landscapes16_dir, tmp_path):
    # `bench solver` figures in the card depend on G's shape, not its weights: a re-export of the same network
    # keeps them; a card written for another shape loses them.
    model, card_path = tmp_path / "tiny16", tmp_path / "tiny16.json"
    run = ["train", "gan", "--data", str(landscapes16_dir), "--out", str(tmp_path / "run"), "--export", str(model), *TINY_FLAGS]
    assert main([*run, "--steps", "1"]) == 0
    card = json.loads(card_path.read_text())
    speed = {"solver_steps_per_s_K8_cpu": 41.5, "solver_speed_notes": "bench solver, by hand"}
    card["metrics"].update(speed)
    card_path.write_text(json.dumps(card))
    assert main([*run, "--steps", "2"]) == 0
    again = json.loads(card_path.read_text())
    assert again["training"]["steps"] == 2 and {k: again["metrics"][k] for k in speed} == speed
    assert "fd8_samples_vs_data" in again["metrics"]  # training's own figures are measured afresh beside them
    again["generator"]["widths"] = [w * 2 for w in again["generator"]["widths"]]  # as if written for another shape
    card_path.write_text(json.dumps(again))
    assert main([*run, "--steps", "3"]) == 0
    assert not any(key.startswith("solver_") for key in json.loads(card_path.read_text())["metrics"])


def test_a_run_without_runs_folder_continues_from_the_shipped_model(landscapes16_dir, tmp_path, capsys):
    model = tmp_path / "models" / "tiny16"
    flags = ["--data", str(landscapes16_dir), *TINY_FLAGS]
    assert main(["train", "gan", "--out", str(tmp_path / "old"), "--steps", "3", "--export", str(model), *flags]) == 0
    shipped = load_model(model.with_suffix(".safetensors"))
    raw = load_raw_generator_state(model.with_suffix(".safetensors"))

    # A new machine: no run folder, only the model file. The run starts at the shipped step, from its nets.
    fresh = tmp_path / "new"
    config = GanConfig(resolution=16, nz=16, base=8, d_base=8, batch=8)
    images = load_images(landscapes16_dir, resolution=16)
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


def test_continuing_from_a_model_with_other_widths_is_a_user_error(landscapes16_dir, tmp_path, capsys):
    model = tmp_path / "tiny16"
    flags = ["--data", str(landscapes16_dir), *TINY_FLAGS]
    assert main(["train", "gan", "--out", str(tmp_path / "old"), "--steps", "1", "--export", str(model), *flags]) == 0
    code = main(["train", "gan", "--out", str(tmp_path / "new"), "--steps", "2", "--init", str(model.with_suffix(".safetensors")),
                 *flags, "--base", "4"])
    assert code == 2 and "do not match" in capsys.readouterr().err


def test_export_can_keep_the_encoder_of_the_file_it_replaces(landscapes16_dir, tmp_path):
    model = tmp_path / "tiny16"
    run = ["train", "gan", "--data", str(landscapes16_dir), "--out", str(tmp_path / "run"), *TINY_FLAGS]
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


@pytest.mark.parametrize("quiet", [True, False], ids=["no-progress", "progress"])
def test_no_progress_silences_the_exports_colour_calibration_too(landscapes16_dir, tmp_path, capsys, quiet):
    flags = [flag for flag in TINY_FLAGS if quiet or flag != "--no-progress"]
    assert main(["train", "gan", "--data", str(landscapes16_dir), "--out", str(tmp_path / "run"), "--steps", "1",
                 "--export", str(tmp_path / "tiny16"), *flags]) == 0
    assert ("colour calibration" in capsys.readouterr().err) != quiet


def test_measure_prints_heldout_fd8_with_its_floor_and_spread(landscapes16_dir, tmp_path, capsys):
    model = tmp_path / "tiny16"
    assert main(["train", "gan", "--data", str(landscapes16_dir), "--out", str(tmp_path / "run"), "--steps", "1",
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
    from demo.train.shipping.calibrate import ColourCalibration, calibrate_colour_mean

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


def test_calibrate_command_rewrites_the_model_with_its_record_and_figures(landscapes16_dir, tmp_path, capsys):
    model = tmp_path / "tiny16"
    assert main(["train", "gan", "--data", str(landscapes16_dir), "--out", str(tmp_path / "run"), "--steps", "1",
                 "--export", str(model), *TINY_FLAGS, "--calibration-steps", "0"]) == 0
    file = model.with_suffix(".safetensors")
    before = load_model(file)
    assert "colour_calibration" not in before.card.training
    raw_before = load_raw_generator_state(file)
    assert main(["train", "calibrate", "--model", str(file), "--data", str(landscapes16_dir), *TINY_FLAGS]) == 0
    after = load_model(file)
    record = after.card.training["colour_calibration"]
    assert record["steps"] == 20 and record["mean_gap_after"] < record["mean_gap_before"]
    assert after.card.metrics["fd8_samples_vs_heldout"] != before.card.metrics["fd8_samples_vs_heldout"]
    raw_after = load_raw_generator_state(file)
    assert all(torch.equal(raw_before[k], raw_after[k]) for k in raw_before)  # what resuming needs is kept
    d_before, d_after = before.D.state_dict(), after.D.state_dict()
    assert d_before.keys() == d_after.keys() and all(torch.equal(d_before[k], d_after[k]) for k in d_before)


def test_export_and_a_continued_run_need_no_recipe_flags_repeated(landscapes16_dir, tmp_path, capsys):
    run, model = tmp_path / "run", tmp_path / "models" / "tiny16"
    quiet = ["--no-progress", "--threads", "1", "--measure-count", "64", "--calibration-steps", "0"]
    assert main(["train", "gan", "--data", str(landscapes16_dir), "--out", str(run), "--steps", "2", "--recon-weight", "1",
                 "--recon-tone", "sqrt", *TINY_FLAGS]) == 0
    assert main(["train", "export", "--data", str(landscapes16_dir), "--out", str(run), "--export", str(model), *quiet]) == 0
    assert f"recon_weight=1.0 ({run}'s checkpoint)" in capsys.readouterr().out
    card = json.loads(model.with_suffix(".json").read_text())["training"]
    assert (card["config"]["base"], card["config"]["recon_tone"]) == (8, "sqrt") and "encoder" in card
    # A flag that contradicts the run is refused, naming the setting.
    assert main(["train", "gan", "--data", str(landscapes16_dir), "--out", str(run), "--steps", "3", "--recon-weight", "0",
                 *quiet]) == 2
    assert "recon_weight" in capsys.readouterr().err
    # A new run from the exported file keeps the recipe in its card.
    assert main(["train", "gan", "--data", str(landscapes16_dir), "--out", str(tmp_path / "next"), "--init",
                 str(model.with_suffix(".safetensors")), "--steps", "3", *quiet]) == 0
    saved = torch.load(tmp_path / "next" / "checkpoint.pt", weights_only=True)["config"]
    assert (saved["base"], saved["nz"], saved["recon_weight"], saved["recon_tone"]) == (8, 16, 1.0, "sqrt")
    # Its export tells the whole history: the first leg's chain, then this leg; E counts both legs' steps.
    again = tmp_path / "models" / "tiny16b"
    assert main(["train", "export", "--data", str(landscapes16_dir), "--out", str(tmp_path / "next"), "--export", str(again),
                 *quiet]) == 0
    second = json.loads(again.with_suffix(".json").read_text())["training"]
    assert second["continued_from"] == (f"{card['continued_from']} -> {model.with_suffix('.safetensors')} at step 2 "
                                        "(raw G as the raw G; its E; fresh Adam), trained to step 3")
    assert second["encoder"]["steps"] == 3 and second["encoder"]["trained"].startswith("beside G from step 0:")
    assert card["encoder"]["steps"] == 2


def test_a_leg_that_changes_the_recipe_says_so_in_the_cards_history():
    card_config = {"recon_weight": 2.0, "recon_tone": "sqrt", "d_tone": "sqrt"}  # no recon_blob_gain: its default, 0
    config = GanConfig(resolution=16, recon_weight=2.0, recon_tone="sqrt", d_tone="sqrt", recon_blob_gain=4.0)
    assert recipe_changes(card_config, config) == "recon_blob_gain 0.0 -> 4.0"
    assert recipe_changes({**card_config, "recon_blob_gain": 4.0}, config) == ""
    provenance = Provenance.from_card(shown="models/x.safetensors", step=5, card_training={"continued_from": "a -> b"},
                                      card_dataset="", raw_g=True, encoder="its E",
                                      changes=recipe_changes(card_config, config))
    assert provenance.continued_from(step=9) == ("a -> b -> models/x.safetensors at step 5 (raw G as the raw G; its E; "
                                                 "fresh Adam; recipe changed: recon_blob_gain 0.0 -> 4.0), trained to step 9")


def test_a_card_names_each_legs_data_once():
    first = dataset_lineage("60000 landscapes (steps 0-8500).", "14336 landscapes", since_step=8500)
    assert first == "60000 landscapes (steps 0-8500). From step 8500 on: 14336 landscapes"
    # Continued again on the same data: nothing to add, however many legs.
    assert dataset_lineage(first, "14336 landscapes", since_step=13540) == first
    assert dataset_lineage(first, "2000 avatars", since_step=17513).endswith("From step 17513 on: 2000 avatars")


def test_a_checkpoint_saved_before_the_run_kept_its_models_history_reads_with_none():
    old = {"origin": "models/x.safetensors at step 5 (raw G as the raw G; fresh Adam)", "earlier_dataset": "100 scenes"}
    provenance = Provenance.from_state(old)
    assert (provenance.origin, provenance.earlier_dataset) == (old["origin"], "100 scenes")
    assert (provenance.lineage, provenance.encoder_steps_before) == ("", 0)
    assert provenance.continued_from(step=9) == old["origin"]  # no earlier chain to prepend
    assert Provenance.from_state(provenance.state_dict()) == provenance
