"""Edit transfer from the command line, and the morph: `transfer` and its bench dry runs, latent
interpolation, and the morph rendered as one batch."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from demo.engine.interpolate import generate_morph, lerp, render_morph, slerp
from demo.transfer.synthetic import noisy_photo


def test_interpolation_endpoints_and_norms():
    generator = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(32, generator=generator), 2.0 * torch.randn(32, generator=generator)
    for path in (lerp(z0, z1, frames=16), slerp(z0, z1, frames=16)):
        assert path.shape == (16, 32)
        assert torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    norms = slerp(z0, z1, frames=16).norm(dim=1)
    expected = torch.lerp(z0.norm(), z1.norm(), torch.linspace(0, 1, 16))
    assert torch.allclose(norms, expected, rtol=1e-5)  # norm moves linearly between the endpoints
    # Between two equal-norm, nearly orthogonal latents lerp sags in the middle, slerp does not.
    a, b = torch.randn(64, generator=generator), torch.randn(64, generator=generator)
    b = b * a.norm() / b.norm()
    assert lerp(a, b, frames=9).norm(dim=1)[4] < 0.8 * a.norm()
    assert torch.allclose(slerp(a, b, frames=9).norm(dim=1), a.norm().expand(9), rtol=1e-5)
    with pytest.raises(ValueError):
        lerp(z0, z1, frames=1)


def test_morph_is_rendered_as_one_batch_with_exact_endpoints(small_model):
    G = small_model.G
    z0, z1 = np.zeros(16, np.float32) + 0.3, np.linspace(-0.9, 0.9, 16, dtype=np.float32)
    calls = []
    handle = G.register_forward_hook(lambda module, inputs, output: calls.append(output.shape[0]))
    try:
        frames = render_morph(G, z0, z1, frames=6, prior="uniform")
    finally:
        handle.remove()
    assert calls == [6]
    assert frames.shape == (6, 32, 32, 3) and frames.dtype == np.uint8
    with torch.no_grad():
        ends = generate_morph(G, torch.from_numpy(z0), torch.from_numpy(z1), frames=2, method="lerp")
    assert np.array_equal(frames[[0, -1]], ((ends.clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy())


def test_transfer_command_writes_the_edited_photo_morph_and_report(small_model_file, tmp_path):
    from demo.cli import main

    photo = noisy_photo(np.random.default_rng(11), 90, 160)  # wide: the model sees its centred square
    photo_path = tmp_path / "photo.png"
    cv2.imwrite(str(photo_path), photo[..., ::-1])
    session = tmp_path / "session.jsonl"
    session.write_text(
        '{"t": 0.0, "type": "down", "tool": "color", "x": 0.2, "y": 0.2, "color": [250, 120, 20], "width": 0.3}\n'
        '{"t": 0.1, "type": "move", "x": 0.8, "y": 0.25}\n'
        '{"t": 0.2, "type": "up"}\n'
    )
    out = tmp_path / "out"
    code = main(["transfer", str(photo_path), "--model", str(small_model_file), "--session", str(session),
                 "--out", str(out), "--method", "opt", "--projection-steps", "3", "--steps", "3", "--candidates", "2",
                 "--frames", "3", "--gif", "--mp4", "--anim-size", "64"])
    assert code == 0
    edited = cv2.imread(str(out / "edited.png"))
    assert edited.shape == photo.shape
    frames = sorted((out / "morph").glob("frame_*.png"))
    assert [f.name for f in frames] == ["frame_00.png", "frame_01.png", "frame_02.png"]
    assert np.array_equal(cv2.imread(str(frames[0]))[..., ::-1], photo)  # frame 0 is the photo itself
    assert (out / "morph.gif").stat().st_size > 0 and (out / "morph.mp4").stat().st_size > 0
    report = json.loads((out / "report.json").read_text())
    assert report["output_size"] == [160, 90] and report["model_region"] == [35, 0, 90, 90]
    assert {"projection", "edit", "morph_generation", "flow_and_color_model", "render"} <= set(report["seconds"])


def test_transfer_command_rejects_bad_arguments(tmp_path, capsys):
    from demo.cli import main

    assert main(["transfer", str(tmp_path / "missing.png"), "--model", "random", "--session", str(tmp_path / "s.jsonl"),
                 "--out", str(tmp_path / "out"), "--frames", "1"]) == 2
    assert "--frames must be >= 2" in capsys.readouterr().err


def test_transfer_bench_dry_run_reports_stages_and_ratios(tmp_path):
    from demo.cli import main

    out = tmp_path / "bench.json"
    assert main(["bench", "transfer", "--sizes", "48,80", "--repeats", "1", "--flow-images", "1", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert set(report["per_frame_estimation"]) == {"flow_ms", "flow_gate_ms", "color_model_ms", "mask_ms"}
    for row in report["per_frame_by_photo_size"].values():
        assert {"upload_ms", "shader_ms", "readback_ms", "opencv_ms"} <= set(row)
        assert row["ratio_shader_to_opencv"] > 0 and row["ratio_gl_total_to_opencv"] >= row["ratio_shader_to_opencv"]
        assert row["max_abs_difference_gl_vs_opencv"] <= 2
    assert report["flow_methods"][1]["method"] == "dis tuned x1"


def field_photo(height: int, width: int) -> np.ndarray:
    """A smooth blue sky over textured green ground (the lower 45%), with grain: two regions with a clear border."""
    rng = np.random.default_rng(27)
    photo = np.empty((height, width, 3), np.float32)
    photo[:] = (90, 140, 220)
    ground = int(height * 0.55)
    photo[ground:] = (60, 120, 40) + 30 * rng.random((height - ground, width, 1))
    return np.clip(photo + rng.normal(0, 2, photo.shape), 0, 255).astype(np.uint8)


def field_bench_folders(tmp_path, *, photo_name: str, stroke_width: float, stroke_end: float):
    """A photos/sessions/masks trio for ``bench transfer``: the field photo, its traced sky, one orange sky stroke."""
    photos, sessions, masks = tmp_path / "photos", tmp_path / "sessions", tmp_path / "masks"
    for folder in (photos, sessions, masks):
        folder.mkdir()
    cv2.imwrite(str(photos / photo_name), field_photo(48, 80)[..., ::-1])
    sky = np.zeros((48, 80, 3), np.uint8)
    sky[:26] = 255
    cv2.imwrite(str(masks / "field_sky.png"), sky)
    (sessions / "transfer_field_sky.jsonl").write_text(
        '{"t": 0.0, "type": "down", "tool": "color", "x": 0.1, "y": 0.1, "color": [250, 140, 40], '
        f'"width": {stroke_width}}}\n{{"t": 0.1, "type": "move", "x": {stroke_end}, "y": 0.1}}\n'
        '{"t": 0.2, "type": "up"}\n')
    return photos, sessions, masks


def test_faithful_bench_dry_run_reports_before_and_after(small_model_file, tmp_path):
    """The guard on the other regions: with a traced sky, the ground under it changes by at most 6/255."""
    from demo.cli import main

    photos, sessions, masks = field_bench_folders(tmp_path, photo_name="field.png", stroke_width=0.15, stroke_end=0.9)
    out = tmp_path / "faithful.json"
    assert main(["bench", "transfer", "--faithful", "--model", str(small_model_file), "--photos", str(photos),
                 "--sessions", str(sessions), "--photo-size", "64", "--projection-method", "opt", "--projection-steps", "2",
                 "--edit-steps", "2", "--baseline", "HEAD", "--cache", str(tmp_path / "cache"), "--masks", str(masks),
                 "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [(row["photo"], row["region"]) for row in report["rows"]] == [("field", "sky"), ("field", "sky")]  # cv2, pil
    for row in report["rows"]:
        assert row["after_unpainted_mean_change"] == 0 and row["after_max_flow"] == 0 == row["after_region_max_flow"]
        assert 0 <= row["before_unpainted_ssim"] <= 1
        assert row["after_region_other_regions_mean_change"] <= 6.0
    assert {"cv2/all", "cv2/sky", "pil/all", "pil/sky"} == set(report["summary"])
    assert report["guard"]["edits"] == 2 and report["guard"]["passing"] == 2


def test_natural_bench_dry_run_writes_measures_and_a_grid(small_model_file, tmp_path):
    from demo.cli import main

    photos, sessions, masks = field_bench_folders(tmp_path, photo_name="field.jpg", stroke_width=0.1, stroke_end=0.6)
    out, grid = tmp_path / "natural.json", tmp_path / "grid.png"
    assert main(["bench", "transfer", "--natural", "--model", str(small_model_file), "--photos", str(photos),
                 "--sessions", str(sessions), "--masks", str(masks), "--scenes", "1", "--photo-size", "64",
                 "--projection-method", "opt", "--projection-steps", "2", "--edit-steps", "2",
                 "--cache", str(tmp_path / "cache"), "--grid", str(grid), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    kinds = [(row["kind"], row["region"]) for row in report["rows"]]
    assert ("photo", "sky") in kinds and ("procedural", "sky") in kinds
    for row in report["rows"]:
        for label in ("before", "after"):
            assert 0 <= row[f"{label}_coverage"] <= 1 and row[f"{label}_other_change"] >= 0
    assert cv2.imread(str(grid)).shape == (256 * len(kinds), 4 * 256, 3)
    assert set(report["summary"]) == {"photo", "procedural"}
