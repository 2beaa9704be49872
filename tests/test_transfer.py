"""Edit transfer: flow, color model, mask, the GL and OpenCV renderers, the photo guard, and the morph path."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from demo.engine.interpolate import generate_morph, lerp, render_morph, slerp
from demo.errors import UserError
from demo.transfer.color_model import ColorConfig, apply_local_affine, fit_local_affine
from demo.transfer.flow import FlowConfig, FlowEstimator, endpoint_error, warp
from demo.transfer.mask import change_mask, edit_reach
from demo.tools.brushes import Stroke, rasterise
from demo.tools.photo import centre_crop_resize
from demo.transfer import estimation, gl_renderer, opencv_renderer, pipeline
from demo.transfer.edit_region import edit_region
from demo.transfer.faithfulness import faithfulness, ssim_map, stroke_regions
from demo.transfer.pipeline import EditTransfer, GLTransfer, OpenCVTransfer, TransferEstimator, centre_square, fit_photo
from demo.transfer.synthetic import (apply_affine_color, band_region, recolour, smooth_affine_color, smooth_flow,
                                     smooth_texture)


@pytest.fixture(scope="module")
def edit_pair():
    """G(z0)-like source, and a target that is it moved (known flow) and recolored (known affine field)."""
    rng = np.random.default_rng(7)
    source = smooth_texture(rng, 64, 64)
    flow = smooth_flow(rng, 64, 64, amplitude=3.0)
    target = np.clip(apply_affine_color(warp(source, flow), smooth_affine_color(rng, 64, 64, strength=0.1)), 0, 1)
    return source, target, flow


def noisy_photo(rng, height, width):
    """A photo-like [H, W, 3] uint8: a smooth picture upsampled, plus grain."""
    picture = cv2.resize(smooth_texture(rng, 96, 96), (width, height), interpolation=cv2.INTER_CUBIC)
    photo = picture * 255 + rng.normal(0, 12, (height, width, 3))
    return np.clip(photo + 0.5, 0, 255).astype(np.uint8)


@pytest.mark.parametrize("config", [FlowConfig(), FlowConfig(preset="medium", upscale=2), FlowConfig(method="farneback")])
def test_flow_recovers_a_known_smooth_flow(config):
    rng = np.random.default_rng(3)
    errors, baselines = [], []
    for _ in range(3):
        source = smooth_texture(rng, 64, 64)
        truth = smooth_flow(rng, 64, 64, amplitude=3.0)
        target = warp(source, truth)  # target[p] = source[p + truth[p]]
        errors.append(endpoint_error(FlowEstimator(config)(target, source), truth, border=2))
        baselines.append(endpoint_error(np.zeros_like(truth), truth, border=2))
    assert np.mean(errors) < 0.45 * np.mean(baselines)


def test_default_flow_is_backward_and_subpixel_on_a_translation():
    rng = np.random.default_rng(4)
    source = smooth_texture(rng, 64, 64, blobs=12)
    shift = np.broadcast_to(np.float32([2.5, -1.25]), (64, 64, 2))
    target = warp(source, shift)  # target[p] = source[p + (2.5, -1.25)]
    flow = FlowEstimator()(target, source)
    assert np.abs(np.median(flow[8:-8, 8:-8].reshape(-1, 2), axis=0) - [2.5, -1.25]).max() < 0.1


def test_color_model_reproduces_a_known_smooth_affine_change():
    rng = np.random.default_rng(5)
    source = smooth_texture(rng, 64, 64)
    target = apply_affine_color(source, smooth_affine_color(rng, 64, 64, strength=0.3))
    color = fit_local_affine(source, target)
    assert color.shape == (64, 64, 3, 4) and color.dtype == np.float32
    error = np.abs(apply_local_affine(source, color) - target)
    assert error.mean() < 2.5 / 255 and np.abs(source - target).mean() > 15 / 255


def test_color_model_of_unchanged_images_is_the_identity():
    source = smooth_texture(np.random.default_rng(6), 32, 32)
    color = fit_local_affine(source, source, config=ColorConfig(radius=2, eps=1e-3))
    assert np.abs(color[..., :3] - np.eye(3)).max() < 1e-3 and np.abs(color[..., 3]).max() < 1e-3


def test_mask_is_zero_without_change_and_one_where_it_changed():
    source = smooth_texture(np.random.default_rng(8), 64, 64)
    still = np.zeros((64, 64, 2), np.float32)
    assert change_mask(source, source, still).max() == 0.0
    edited = source.copy()
    edited[20:40, 20:40] = [1.0, 0.0, 0.0]
    mask = change_mask(source, edited, still)
    assert mask[25:35, 25:35].min() > 0.95 and mask[:8].max() < 0.05 and mask[:, 56:].max() < 0.05


def test_estimator_and_self_transfer_reproduce_the_edited_image(ctx, edit_pair):
    source, target, truth = edit_pair
    params = TransferEstimator()(source, target)
    assert endpoint_error(params.flow, truth, border=2) < 0.4 * endpoint_error(0 * truth, truth, border=2)
    # Carried onto G(z0) itself, the edit must give back G(z_t).
    renderer = GLTransfer(ctx)
    renderer.set_photo(np.clip(source * 255 + 0.5, 0, 255).astype(np.uint8))
    out = renderer.render(params) / 255.0
    assert np.abs(out - target).mean() < 3 / 255 < 10 / 255 < np.abs(source - target).mean()


@pytest.mark.parametrize("size", [(64, 64), (200, 333), (1024, 1024)])
def test_gl_and_opencv_paths_agree(ctx, edit_pair, size):
    source, target, _ = edit_pair
    params = TransferEstimator()(source, target)
    photo = noisy_photo(np.random.default_rng(size[0]), *size)
    renderer, reference = GLTransfer(ctx), OpenCVTransfer()
    renderer.set_photo(photo)
    reference.set_photo(photo)
    out_gl, out_cv = renderer.render(params), reference.render(params)
    assert out_gl.shape == out_cv.shape == photo.shape
    difference = np.abs(out_gl.astype(int) - out_cv.astype(int))
    assert difference.max() <= 2 and difference.mean() < 0.5
    assert np.abs(out_gl.astype(int) - photo).mean() > 10  # the edit did change the photo


def test_edit_on_a_centre_crop_fades_out_beyond_it(ctx, edit_pair):
    """Projection sees the centred square of a wide photo: the edit lands there and fades out at its sides."""
    source, target, _ = edit_pair
    params = TransferEstimator()(source, target)
    photo = noisy_photo(np.random.default_rng(2), 120, 300)
    rect = centre_square(120, 300)
    assert rect == (90, 0, 120, 120)
    x0, y0, side, _ = rect
    assert np.array_equal(centre_crop_resize(photo, 64), cv2.resize(photo[:, x0:x0 + side], (64, 64), interpolation=cv2.INTER_AREA))
    renderer, reference = GLTransfer(ctx, fade=6.0), OpenCVTransfer(fade=6.0)
    renderer.set_photo(photo, rect=rect)
    reference.set_photo(photo, rect=rect)
    out_gl, out_cv = renderer.render(params), reference.render(params)
    assert np.abs(out_gl.astype(int) - out_cv.astype(int)).max() <= 2
    changed = np.abs(out_gl.astype(int) - photo).max(axis=(0, 2))  # per column
    beyond = 6 * side // 64 + 1  # photo pixels past the fade
    assert changed[x0 + 10:x0 + side - 10].min() > 0
    assert changed[:x0 - beyond].max() == 0 and changed[x0 + side + beyond:].max() == 0


def test_renderers_sharing_a_context_keep_their_own_regions(ctx):
    still = EditTransfer.identity(16, 16)
    params = EditTransfer(flow=still.flow + 1.5, color=still.color, mask=still.mask + 1)
    photo = noisy_photo(np.random.default_rng(12), 40, 100)
    cropped, whole, reference = GLTransfer(ctx), GLTransfer(ctx), OpenCVTransfer()
    cropped.set_photo(photo, rect=(30, 0, 40, 40))
    whole.set_photo(photo)
    reference.set_photo(photo, rect=(30, 0, 40, 40))
    whole.render(params)  # draws with its own region in between
    assert np.abs(cropped.render(params).astype(int) - reference.render(params)).max() <= 2


def test_no_change_keeps_the_photo_bit_for_bit(ctx):
    photo = noisy_photo(np.random.default_rng(9), 90, 120)
    renderer, reference = GLTransfer(ctx), OpenCVTransfer()
    renderer.set_photo(photo)
    reference.set_photo(photo)
    still = EditTransfer.identity(32, 32)
    assert np.array_equal(renderer.render(still), photo) and np.array_equal(reference.render(still), photo)


def test_gl_transfer_reuses_its_textures_across_frames(ctx, edit_pair):
    source, target, _ = edit_pair
    renderer = GLTransfer(ctx)
    renderer.set_photo(noisy_photo(np.random.default_rng(1), 48, 40))
    estimate = TransferEstimator()
    frames = [renderer.render(estimate(source, source * (1 - t) + target * t)).copy() for t in (0.5, 1.0)]
    assert not np.array_equal(frames[0], frames[1])
    textures = (renderer.photo, renderer.motion, *renderer.colors, renderer.target.texture)
    assert all(texture.reallocations == 1 for texture in textures)


def test_photo_guard_scales_large_photos_down_with_a_message(ctx):
    photo = np.zeros((300, 200, 3), np.uint8)
    smaller, message = fit_photo(photo, max_size=128, source="big.jpg")
    assert smaller.shape == (128, 85, 3) and "big.jpg" in message and "128" in message
    kept, none = fit_photo(photo, max_size=300)
    assert kept is photo and none is None
    renderer = GLTransfer(ctx)
    assert renderer.max_size >= 4096
    renderer.max_size = 128  # as on a GPU whose GL_MAX_TEXTURE_SIZE is 128
    with pytest.raises(UserError, match="GL_MAX_TEXTURE_SIZE"):
        renderer.set_photo(photo)


ORANGE = (1.0, 0.55, 0.15)


def colour_stroke(y: float, width: float) -> Stroke:
    return Stroke(tool="color", color=(255, 140, 38), width=width, points=((0.05, y, 1.0), (0.5, y, 1.0), (0.95, y, 1.0)))


def test_pure_recolouring_changes_the_photo_only_around_the_recoloured_band(ctx):
    """Without the strokes: G recolours a band (the sky) and nothing else; the rest of the photo is kept bit for bit."""
    source = smooth_texture(np.random.default_rng(21), 64, 64)
    target = recolour(source, band_region(64, 64, top=0.0, bottom=0.3), ORANGE)  # rows 0..19 become orange
    params = TransferEstimator()(source, target)
    photo = noisy_photo(np.random.default_rng(22), 256, 256)
    for renderer in (GLTransfer(ctx), OpenCVTransfer()):
        renderer.set_photo(photo)
        out = renderer.render(params).astype(int)
        assert np.array_equal(out[4 * 30:], photo[4 * 30:])  # 10 model rows below the band: untouched
        sky = photo[:4 * 16].astype(float)
        assert np.linalg.norm(out[:4 * 16] - np.array(ORANGE) * 255, axis=-1).mean() < 0.6 * np.linalg.norm(
            sky - np.array(ORANGE) * 255, axis=-1).mean()


def test_recolouring_stroke_moves_nothing_and_keeps_the_rest_despite_drift(ctx):
    """With the strokes: a colour stroke on the sky; G also drifts everywhere (as a GAN does), in colour and shape.
    Nothing moves, the sky turns toward the stroke colour, and beyond the stroke's reach the photo is kept bit for bit."""
    rng = np.random.default_rng(23)
    source = smooth_texture(rng, 64, 64)
    constraints = rasterise([colour_stroke(0.1, 0.12)], 64)
    drifted = np.clip(apply_affine_color(warp(source, smooth_flow(rng, 64, 64, amplitude=2.0)),
                                         smooth_affine_color(rng, 64, 64, strength=0.15)), 0, 1)
    target = recolour(drifted, constraints.color_mask, ORANGE, strength=0.8)
    estimator = TransferEstimator()
    region = edit_region(constraints)
    params = estimator(source, target, region=region)
    assert not params.flow.any()  # a recolouring moves no pixel
    reach = estimator.config.region_grow + estimator.config.region_falloff
    far = edit_reach(region.change, grow=reach + 1, falloff=0) == 0  # [64, 64] model pixels beyond the reach (+1 for the upsampling)
    assert params.mask[far].max() == 0 and np.abs(params.color[far] - identity_color_like(params.color[far])).max() == 0
    photo = noisy_photo(np.random.default_rng(24), 320, 320)
    far_photo = cv2.resize(far.astype(np.uint8), (320, 320), interpolation=cv2.INTER_NEAREST) > 0
    canvas = rasterise([colour_stroke(0.1, 0.12)], 320)
    regions = stroke_regions(canvas.color, canvas.color_mask, dilate=20)
    outputs = []
    for renderer in (gl_renderer.GLTransfer(ctx), opencv_renderer.OpenCVTransfer()):
        renderer.set_photo(photo)
        outputs.append(renderer.render(params))
        assert np.array_equal(outputs[-1][far_photo], photo[far_photo])
        scores = faithfulness(photo, outputs[-1], regions)
        assert scores["unpainted_mean_change"] < 0.5 and scores["unpainted_ssim"] > 0.99 and scores["painted_progress"] > 40
    assert np.abs(outputs[0].astype(int) - outputs[1]).max() <= 2
    # Without the strokes the drift is carried everywhere: the reason the strokes are needed.
    loose = OpenCVTransfer()
    loose.set_photo(photo)
    assert faithfulness(photo, loose.render(estimator(source, target)), regions)["unpainted_mean_change"] > 5


def identity_color_like(color: np.ndarray) -> np.ndarray:
    identity = np.zeros_like(color)
    identity[..., :3] = np.eye(3)
    return identity


def test_sketch_strokes_let_motion_through_near_them_only():
    rng = np.random.default_rng(25)
    source = smooth_texture(rng, 64, 64, blobs=12)
    target = warp(source, np.broadcast_to(np.float32([2.0, 0.0]), (64, 64, 2)))  # everything shifted 2 px
    sketch = Stroke(tool="sketch", color=(0, 0, 0), width=0.05, points=((0.2, 0.5, 1.0), (0.8, 0.5, 1.0)))
    region = edit_region(rasterise([sketch], 64))
    params = TransferEstimator()(source, target, region=region)
    motion = np.sqrt((params.flow**2).sum(-1))
    assert np.median(motion[30:34, 20:44]) > 1.0  # on the sketch: moved
    assert motion[:16].max() == 0 and motion[48:].max() == 0  # far from it: still


def test_edit_region_covers_warp_source_and_target():
    drag = Stroke(tool="warp", color=(0, 0, 0), width=0.1, points=((0.2, 0.5, 1.0), (0.7, 0.5, 1.0)))
    paint = Stroke(tool="color", color=(0, 0, 255), width=0.1, points=((0.5, 0.1, 1.0),))
    region = edit_region(rasterise([drag, paint], 64))
    assert region.motion[32, 45] > 0.5 and region.motion[32, 13] > 0.5  # target and source of the drag
    assert region.motion[6, 32] == 0 and region.change[6, 32] > 0.5  # the colour stroke asks for no motion
    assert region.change[40:, :].max() == 0


def test_edit_reach_falls_off_to_zero_beyond_grow_plus_falloff():
    coverage = np.zeros((32, 32), np.float32)
    coverage[10:12, :] = 1.0
    reach = edit_reach(coverage, grow=1.5, falloff=1.5)
    assert reach[9:13].min() == 1.0 and reach[15:].max() == 0.0 and 0 < reach[13, 0] < 1
    assert not edit_reach(np.zeros((8, 8), np.float32), grow=1, falloff=1).any()


def test_faithfulness_scores_kept_and_recoloured_regions():
    photo = noisy_photo(np.random.default_rng(26), 64, 64)
    canvas = rasterise([colour_stroke(0.2, 0.2)], 64)
    regions = stroke_regions(canvas.color, canvas.color_mask, dilate=4)
    assert np.allclose(ssim_map(photo, photo), 1.0)
    same = faithfulness(photo, photo, regions)
    assert same["unpainted_mean_change"] == 0 and same["painted_progress"] == 0 and same["unpainted_ssim"] == pytest.approx(1.0)
    edited = photo.copy()
    edited[regions.painted] = (255, 140, 38)
    scores = faithfulness(photo, edited, regions)
    assert scores["unpainted_mean_change"] == 0 and scores["painted_progress"] > 50
    edited[40:] = 255 - edited[40:]  # and spoil the ground
    spoiled = faithfulness(photo, edited, regions)
    assert spoiled["unpainted_mean_change"] > 20 and spoiled["unpainted_ssim"] < 0.5


def test_pipeline_reexports_the_split_modules():
    assert pipeline.TransferEstimator is estimation.TransferEstimator and pipeline.EditTransfer is estimation.EditTransfer
    assert pipeline.GLTransfer is gl_renderer.GLTransfer and pipeline.OpenCVTransfer is opencv_renderer.OpenCVTransfer


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


def test_faithful_bench_dry_run_reports_before_and_after(small_model_file, tmp_path):
    from demo.cli import main

    photos, sessions = tmp_path / "photos", tmp_path / "sessions"
    photos.mkdir()
    sessions.mkdir()
    cv2.imwrite(str(photos / "field.png"), noisy_photo(np.random.default_rng(27), 48, 80)[..., ::-1])
    (sessions / "transfer_field_sky.jsonl").write_text(
        '{"t": 0.0, "type": "down", "tool": "color", "x": 0.1, "y": 0.1, "color": [250, 140, 40], "width": 0.15}\n'
        '{"t": 0.1, "type": "move", "x": 0.9, "y": 0.1}\n{"t": 0.2, "type": "up"}\n')
    out = tmp_path / "faithful.json"
    assert main(["bench", "transfer", "--faithful", "--model", str(small_model_file), "--photos", str(photos),
                 "--sessions", str(sessions), "--photo-size", "64", "--projection-method", "opt", "--projection-steps", "2",
                 "--edit-steps", "2", "--baseline", "HEAD", "--cache", str(tmp_path / "cache"), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [(row["photo"], row["region"]) for row in report["rows"]] == [("field", "sky"), ("field", "sky")]  # cv2, pil
    for row in report["rows"]:
        assert row["after_unpainted_mean_change"] == 0 and row["after_max_flow"] == 0
        assert 0 <= row["before_unpainted_ssim"] <= 1
    assert {"cv2/all", "cv2/sky", "pil/all", "pil/sky"} == set(report["summary"])
