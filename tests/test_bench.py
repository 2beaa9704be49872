"""Benchmarks stay runnable (a dry run at tiny sizes); their figures are measured outside the test suite."""

from __future__ import annotations

import json

import pytest

from demo.cli import main


def test_solver_bench_dry_run_reports_ratios(tmp_path, small_model_file):
    out = tmp_path / "bench.json"
    assert main(["bench", "solver", "--model", str(small_model_file), "--batches", "1,3", "--rounds", "1",
                 "--steps", "2", "--sgemm-size", "256", "--device", "cpu", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [row["K"] for row in report["rows"]] == [1, 3]
    for row in report["rows"]:
        assert row["bare_steps_per_s"] > 0 and row["solver_steps_per_s"] > 0
        assert abs(row["ratio"] - row["solver_steps_per_s"] / row["bare_steps_per_s"]) < 0.01


def test_skies_bench_reports_each_sky_and_the_moons(tmp_path):
    """bench skies (the old tools/measure scripts) on a tiny 64 px stand-in: figures per sky, moons, a picture."""
    import cv2

    from demo.engine.checkpoint import random_stand_in, save_model

    model = random_stand_in(resolution=64, nz=16, base=8, seed=2)
    path = save_model(tmp_path / "tiny64.safetensors", model.card, G=model.G)
    out, picture = tmp_path / "skies.json", tmp_path / "skies.png"
    assert main(["bench", "skies", "--model", str(path), "--per-kind", "1", "--moons", "1", "--method", "opt", "--steps", "2",
                 "--picture", str(picture), "--device", "cpu", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["skies"]) == {"night", "dusk", "day"}
    for figures in report["skies"].values():
        assert len(figures["seeds"]) == 1 and all(seed >= 10_000_000 for seed in figures["seeds"])
        assert figures["rmse_median"] > 0 and figures["flat_colour_rmse_median"] > 0
    assert len(report["moons"]["contrast_ratio"]) == 1
    image = cv2.imread(str(picture))
    assert image.shape[0] == 2 * (3 * 64 + 12) and image.shape[1] == 2 * (3 * 64 + 12)  # night and dusk rows


def test_skies_measures_a_moon_and_its_absence():
    import numpy as np

    from demo.bench.skies import contrast, moon_at, sky_figures

    sky = np.full((64, 64, 3), 30, np.uint8)
    scene = sky.copy()
    scene[20:23, 40:43] = 230  # a 3x3 moon
    assert moon_at(scene) == (21, 41)
    assert abs(contrast(scene, (21, 41)) - 200 / 255) < 1e-6
    assert contrast(sky, (21, 41)) == 0.0
    figures = sky_figures([scene], [scene])
    assert figures["rmse_median"] == 0.0 and figures["detail_median"] == 1.0
    assert sky_figures([scene], [sky])["rmse_median"] > 0


def test_display_bench_reports_swd_per_level_fidelity_and_a_picture(tmp_path):
    import cv2

    out, picture = tmp_path / "display.json", tmp_path / "display.png"
    assert main(["bench", "display", "--kinds", "landscapes", "--count", "8", "--picture", str(picture),
                 "--device", "cpu", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())["kinds"]["landscapes"]
    for name in ("swd_floor", "swd_display", "swd_bicubic"):
        assert set(figures[name]) == {"256", "128", "64", "32", "16"}
    assert figures["fine_bicubic_over_floor"] > 1 and 0 < figures["fidelity_worst_rmse"] <= 6  # the fidelity limit
    assert cv2.imread(str(picture)).shape[1] == 4 * 256 + 3 * 4  # G | bicubic | display | truth
    # Validation seeds: other true scenes (another floor), the same samples and display images (the same fidelity).
    assert main(["bench", "display", "--kinds", "landscapes", "--count", "8", "--picture", str(picture),
                 "--device", "cpu", "--json", str(out), "--truth-seed", "30000000"]) == 0
    validation = json.loads(out.read_text())["kinds"]["landscapes"]
    assert validation["swd_floor"] != figures["swd_floor"]
    assert validation["fidelity_worst_rmse"] == figures["fidelity_worst_rmse"]
    assert set(figures["swd_display_of_true_inputs"]) == set(figures["swd_display"]) and figures["settings"] == {}
    # A setting over the card's is used and reported; a setting that is not one is refused by name.
    assert main(["bench", "display", "--kinds", "landscapes", "--count", "8", "--picture", str(picture),
                 "--device", "cpu", "--json", str(out), "--setting", "fidelity_limit=2"]) == 0
    limited = json.loads(out.read_text())["kinds"]["landscapes"]
    assert limited["settings"] == {"fidelity_limit": 2.0} and limited["fidelity_worst_rmse"] <= 2
    with pytest.raises(SystemExit):
        main(["bench", "display", "--setting", "width=8"])


def test_edits_bench_replays_scene_strokes_and_reports_recall_realism_and_a_grid(tmp_path):
    import cv2

    from demo.engine.checkpoint import random_stand_in, save_model

    model = random_stand_in(resolution=64, nz=16, base=8, seed=3)
    path = save_model(tmp_path / "tiny64.safetensors", model.card, G=model.G)
    out = tmp_path / "edits"
    assert main(["bench", "edits", "--model", str(path), "--scenes", "2", "--steps-per-stroke", "2",
                 "--reference-steps-per-stroke", "3", "--device", "cpu", "--out", str(out), "--neighbours", "4",
                 "--scene-seed", "40000000"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["seeds"] == [40000000, 40000001]  # validation seeds, as asked
    assert set(report["swd_true_scenes"]) == set(report["swd_results"]) == {"64", "32", "16"}
    assert report["neighbours"]["pool"] == 4
    assert set(report["neighbours"]) == {"pool", "nearest", "mean_of_nearest", "best_in_pool"}
    assert report["floor_method"] == "opt"  # the stand-in has no encoder
    assert report["steps_per_scene"]["min"] == 2 * report["strokes_per_scene"]["min"]
    assert report["reference"]["steps_per_stroke"] == 3 and set(report["palette"]["swd_results"]) == {"64", "32", "16"}
    assert report["recall_over_floor"] > 0 and report["realism_ratio"] > 0
    assert cv2.imread(str(out / "grid.png")).shape == (2 * 256 + 4, 5 * 256 + 4 * 4, 3)  # scene, strokes, result, bicubic, display


def test_edits_bench_paints_portraits_with_their_own_strokes_for_avatars(tmp_path):
    import shutil

    from demo.data.avatars import TOOL_DIR
    from demo.engine.checkpoint import random_stand_in, save_model

    if shutil.which("node") is None or not (TOOL_DIR / "node_modules").is_dir():
        pytest.skip("the avatar renderer needs Node and `npm ci` in tools/avatars")
    model = random_stand_in(resolution=64, nz=16, base=8, seed=3)
    path = save_model(tmp_path / "tiny64.safetensors", model.card, G=model.G)
    out = tmp_path / "edits"
    assert main(["bench", "edits", "--model", str(path), "--kind", "avatars", "--scenes", "2", "--steps-per-stroke",
                 "1", "--no-reference", "--no-palette", "--device", "cpu", "--out", str(out)]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["kind"] == "avatars" and report["strokes_per_scene"] == {"median": 5, "min": 5, "max": 5}
    assert report["steps_per_scene"]["min"] == 5  # one step after each of the five portrait strokes


def test_edits_bench_on_portraits_without_the_avatar_renderer_says_so_in_one_line(tmp_path, monkeypatch, capsys):
    import demo.data.avatars

    monkeypatch.setattr(demo.data.avatars, "TOOL_DIR", tmp_path / "no_renderer")  # as on a machine without npm ci
    assert main(["bench", "edits", "--kind", "avatars", "--scenes", "2", "--no-reference", "--no-palette",
                 "--device", "cpu", "--out", str(tmp_path / "edits")]) == 2
    message = capsys.readouterr().err.strip()
    assert "avatar renderer is not installed" in message and len(message.splitlines()) == 1
    assert not (tmp_path / "edits").exists()


def test_portrait_strokes_take_the_background_hair_face_and_clothes_colours():
    import numpy as np

    from demo.bench.edit_strokes import plan_portrait_strokes

    portrait = np.zeros((64, 64, 3), np.uint8)
    portrait[:] = (120, 80, 160)  # background
    portrait[6:18, 20:44] = (60, 40, 20)  # hair
    portrait[18:44, 22:42] = (200, 150, 120)  # face
    portrait[52:, 10:54] = (30, 90, 200)  # shirt
    plans = plan_portrait_strokes(portrait)
    assert [plan.kind for plan in plans] == ["background", "background", "hair", "face", "clothes"]
    assert [plan.color for plan in plans] == [(120, 80, 160), (120, 80, 160), (60, 40, 20), (200, 150, 120),
                                              (30, 90, 200)]


def test_the_training_scene_that_matches_the_strokes_is_found_and_measured_over_all_pixels():
    import numpy as np

    from demo.bench.edit_neighbours import neighbour_recall
    from demo.bench.edit_strokes import plan_strokes
    from demo.bench.skies import scene_64

    scenes = np.stack(scene_64([3, 4, 5, 6])).astype(np.float32)  # [4, 64, 64, 3]
    plans = plan_strokes(scenes[2].astype(np.uint8), horizon=0.5, water=False)
    found = neighbour_recall(scenes, scenes[2], plans, k=2)
    assert found["nearest"] == 0 and found["best_in_pool"] == 0  # the scene itself matches its own strokes
    assert found["mean_of_nearest"] > 0  # the mean of two is not the scene
    others = neighbour_recall(np.delete(scenes, 2, axis=0), scenes[2], plans, k=2)
    assert others["nearest"] >= others["best_in_pool"] > 0


def test_scene_strokes_take_the_scene_colours_and_the_palette_case_the_nearest_palette_colour():
    import numpy as np

    from demo.bench.edit_strokes import in_palette, plan_strokes, session_of

    scene = np.zeros((64, 64, 3), np.uint8)
    scene[:32] = (90, 140, 220)  # sky
    scene[32:] = (40, 120, 50)  # land
    scene[10:13, 50:53] = 250  # a sun
    plans = plan_strokes(scene, horizon=0.5, water=False)
    kinds = [plan.kind for plan in plans]
    assert kinds == ["band", "band", "band", "ridge", "sun"]
    assert plans[0].color == (90, 140, 220) and plans[2].color == (40, 120, 50) and plans[-1].color[0] > 200
    palette = in_palette(plans, [(0, 0, 255), (0, 255, 0), (255, 255, 255)])
    assert [p.color for p in palette[:3]] == [(0, 0, 255), (0, 0, 255), (0, 255, 0)]
    events = session_of(plans).events
    assert [e.type for e in events].count("down") == len(plans) == [e.type for e in events].count("up")


def test_stroke_colour_error_is_zero_for_the_stroke_colours_and_grows_with_texture_under_them():
    import numpy as np

    from demo.bench.edit_strokes import plan_strokes
    from demo.bench.edits import stroke_colour_error, stroke_constraints

    scene = np.zeros((64, 64, 3), np.uint8)
    scene[:32] = (90, 140, 220)
    scene[32:] = (40, 120, 50)
    plans = plan_strokes(scene, horizon=0.5, water=False)
    painted = (stroke_constraints(plans).color * 255).round().astype(np.uint8)  # the stroke colours themselves
    assert stroke_colour_error(painted, plans) < 0.5
    noise = np.random.default_rng(0).uniform(-20, 20, painted.shape)
    textured = np.clip(painted + noise, 0, 255).astype(np.uint8)
    assert 9 < stroke_colour_error(textured, plans) < 13  # uniform +-20 has an RMS of 20 / sqrt(3) = 11.5
