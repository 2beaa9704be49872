"""Edit transfer, rendering: the GL and OpenCV renderers agree and reuse their textures, an unchanged or
recoloured photo keeps what it should (faithfulness scores), and the photo guard."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from demo.errors import UserError
from demo.tools.brushes import Stroke, rasterise
from demo.tools.photo import centre_crop_resize
from demo.transfer import estimation, gl_renderer, opencv_renderer, pipeline
from demo.transfer.edit_region import edit_region
from demo.transfer.faithfulness import faithfulness, ssim_map, stroke_regions
from demo.transfer.flow import endpoint_error, warp
from demo.transfer.mask import edit_reach
from demo.transfer.pipeline import EditTransfer, GLTransfer, OpenCVTransfer, TransferEstimator, centre_square, fit_photo
from demo.transfer.synthetic import (apply_affine_color, band_region, noisy_photo, recolour, smooth_affine_color,
                                     smooth_flow, smooth_texture)


@pytest.fixture(scope="module")
def edit_pair():
    """G(z0)-like source, and a target that is it moved (known flow) and recolored (known affine field)."""
    rng = np.random.default_rng(7)
    source = smooth_texture(rng, 64, 64)
    flow = smooth_flow(rng, 64, 64, amplitude=3.0)
    target = np.clip(apply_affine_color(warp(source, flow), smooth_affine_color(rng, 64, 64, strength=0.1)), 0, 1)
    return source, target, flow


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


def test_the_photo_view_is_drawn_at_the_canvas_size_and_follows_a_resize(ctx):
    """The app's photo view renders the edit at the canvas's size on screen (rounded up to 32 px, never above
    the photo's own), not at 1024 px; a resize draws the current edit again at the new size, unestimated."""
    from demo.app.photo.edit import PhotoEdit, view_side

    assert [view_side(side) for side in (100, 552, 576, 577, 910, 5000)] == [256, 576, 576, 608, 928, 2048]
    photo = np.zeros((1500, 2000, 3), np.uint8)
    photo[:700] = (70, 130, 230)
    photo[700:] = (40, 120, 40)
    edit = PhotoEdit(ctx)
    try:
        assert not edit.fit_view(552) and edit.display_side == 576  # before any photo: only the size is kept
        edit.set_photo(photo)
        assert edit.size == (768, 576) and edit.texture.size == (768, 576)
        edit.params = pipeline.EditTransfer.identity(16, 16)
        assert not edit.fit_view(560)  # the same 576 px copy: nothing is drawn again
        assert edit.fit_view(1000) and edit.size == (1365, 1024) and edit.texture.size == (1365, 1024)
        assert edit.crop == pytest.approx(((1365 - 1024) / 2 / 1365, 0.0, (1365 + 1024) / 2 / 1365, 1.0), abs=1e-3)
        shown = edit.renderer.read()  # the identity edit, drawn again at 1024 px: the photo as it is, at that size
        assert shown.shape == (1024, 1365, 3)
        assert np.abs(shown.astype(int) - cv2.resize(photo, (1365, 1024), interpolation=cv2.INTER_AREA)).max() <= 2
        assert edit.fit_view(5000) and edit.size == (2000, 1500)  # never above the photo's own size
    finally:
        edit.close()
