"""Natural edit transfer (issue 31): a colour stroke changes its region of the photo, up to the region's own border,
edge-aware and guided by the photo; both renderers draw it alike; the measures of the natural benchmark."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from demo.data.landscapes import LABELS, LandscapeConfig, render_landscape_with_labels
from demo.tools.brushes import Stroke, rasterise
from demo.transfer.edit_region import edit_region
from demo.transfer.naturalness import naturalness
from demo.transfer.pipeline import GLTransfer, OpenCVTransfer, TransferEstimator, centre_square
from demo.transfer.region import RegionConfig, geodesic_distance, photo_region
from demo.transfer.synthetic import recolour

ORANGE = (250, 140, 40)
WORK = RegionConfig().work_side


def stroke(y: float, *, x0: float = 0.2, x1: float = 0.6, width: float = 0.04, colour=ORANGE, tool: str = "color") -> Stroke:
    return Stroke(tool=tool, color=colour, width=width, points=((x0, y, 1.0), (x1, y, 1.0)))


def two_regions(size: int, *, seed: int = 0, horizon: float = 0.55, fog: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A photo with a graded sky over textured grass, a wavy horizon and grain; and its sky mask [size, size]."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    line = horizon + 0.05 * np.sin(xs * 9.0) + 0.02 * np.sin(xs * 31.0)
    sky = ys < line
    top, low = np.array([60, 110, 200], np.float32), np.array([170, 200, 235], np.float32)
    t = np.clip(ys / horizon, 0, 1)[..., None]
    sky_colour = top * (1 - t) + low * t
    grass = np.array([70, 120, 40], np.float32) * (0.75 + 0.5 * cv2.resize(rng.random((size // 8, size // 8)).astype(np.float32),
                                                                          (size, size), interpolation=cv2.INTER_CUBIC))[..., None]
    grass = grass * (1 - fog) + low * fog
    photo = np.where(sky[..., None], sky_colour, grass) + rng.normal(0, 3, (size, size, 3))
    return np.clip(photo + 0.5, 0, 255).astype(np.uint8), sky


def region_on(photo: np.ndarray, strokes: list[Stroke]) -> np.ndarray:
    size = photo.shape[0]
    return photo_region(photo, (0, 0, size, size), rasterise(strokes, WORK).color_mask).at(photo)


def test_geodesic_distance_is_the_path_cost():
    start = np.full((5, 7), np.inf)
    start[2, 3] = 0
    distance = geodesic_distance(start, np.ones((5, 6)), np.ones((4, 7)), rounds=4)
    ys, xs = np.mgrid[0:5, 0:7]
    assert np.array_equal(distance, np.abs(ys - 2) + np.abs(xs - 3))  # uniform steps: the city-block distance
    wall = np.ones((5, 6))
    wall[:, 3] = 100.0  # a costly column between x = 3 and x = 4
    assert geodesic_distance(start, wall, np.ones((4, 7)), rounds=4)[2, 6] == 100 + 2


def test_sky_stroke_changes_the_sky_up_to_the_horizon_and_no_further():
    photo, sky = two_regions(512)
    region = region_on(photo, [stroke(0.1)])
    band = cv2.dilate(sky.astype(np.uint8), np.ones((9, 9))) != cv2.erode(sky.astype(np.uint8), np.ones((9, 9)))
    assert (region[sky & ~band] > 0.5).mean() > 0.97  # all of the sky, far from the stroke too
    assert (region[~sky & ~band] < 0.05).mean() > 0.97  # none of the ground


def test_textured_region_a_stroke_across_two_regions_and_a_tiny_stroke():
    photo, sky = two_regions(384, seed=1)
    ground = region_on(photo, [stroke(0.85, colour=(200, 180, 40))])  # on the grass's texture
    assert (ground[~sky] > 0.5).mean() > 0.9 and (ground[sky] > 0.5).mean() < 0.05
    both = region_on(photo, [Stroke(tool="color", color=ORANGE, width=0.04, points=((0.5, 0.3, 1.0), (0.5, 0.8, 1.0)))])
    assert (both[sky] > 0.5).mean() > 0.9 and (both[~sky] > 0.5).mean() > 0.9
    tiny = region_on(photo, [stroke(0.1, x0=0.5, x1=0.51, width=0.004)])
    assert (tiny[sky] > 0.5).mean() > 0.9 and (tiny[~sky] > 0.5).mean() < 0.05


def test_weak_border_keeps_most_of_the_ground():
    photo, sky = two_regions(384, seed=2, fog=0.6)
    region = region_on(photo, [stroke(0.1)])
    assert (region[sky] > 0.5).mean() > 0.9 and (region[~sky] > 0.5).mean() < 0.3


@pytest.mark.parametrize("contrast", [0.15, 0.1])
def test_a_low_contrast_photo_is_measured_stretched(contrast):
    # The same sky over grass, faded toward grey as in thick fog: its horizon is a few Lab units high, below
    # the edge floor, so without the stretch (contrast_gain_max=1) the sky's region runs over the ground.
    photo, sky = two_regions(384, seed=5)
    foggy = np.clip(photo.astype(np.float32) * contrast + 110 * (1 - contrast), 0, 255).astype(np.uint8)
    paint = rasterise([stroke(0.1)], WORK).color_mask
    stretched = photo_region(foggy, (0, 0, 384, 384), paint).at(foggy)
    flat = photo_region(foggy, (0, 0, 384, 384), paint, config=RegionConfig(contrast_gain_max=1.0)).at(foggy)
    assert (stretched[sky] > 0.5).mean() > 0.95 and (stretched[~sky] > 0.5).mean() < 0.05
    assert (flat[~sky] > 0.5).mean() > 0.5  # the case is one that needs the stretch


def starry_night(size: int, *, density: float, seed: int = 0, mountain=(22, 26, 45)) -> tuple[np.ndarray, np.ndarray]:
    """A dark sky strewn with one-pixel stars over a slightly darker mountain (a border of a few Lab units), and
    its sky mask."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size
    sky = ys < 0.55 + 0.08 * np.sin(xs * 7.0)
    photo = np.where(sky[..., None], np.array([35, 30, 70], np.float32), np.array(mountain, np.float32))
    photo[(rng.random((size, size)) < density) & sky] = 230
    return np.clip(photo + rng.normal(0, 1.5, photo.shape), 0, 255).astype(np.uint8), sky


@pytest.mark.parametrize("density", [0.01, 0.02])
def test_stars_under_a_sky_stroke_do_not_open_the_mountain_below(density):
    # Stars under the stroke raise the strokes' texture floor above the sky's dark ridge, so without the median
    # (speck_change=0: never taken), and without the cost of walking onto the starless ridge, the sky's region
    # runs over the mountain. Either alone holds it.
    photo, sky = starry_night(384, density=density)
    paint = rasterise([stroke(0.15)], WORK).color_mask

    def region(**config) -> np.ndarray:
        return photo_region(photo, (0, 0, 384, 384), paint, config=RegionConfig(**config)).at(photo)

    for held in (region(), region(texture_cost=0.0), region(speck_change=0.0)):
        assert (held[sky] > 0.5).mean() > 0.95 and (held[~sky] > 0.5).mean() < 0.1
    assert (region(speck_change=0.0, texture_cost=0.0)[~sky] > 0.5).mean() > 0.5  # the case needs one of them


def test_a_starry_sky_stops_at_a_starless_ridge_of_its_own_colour():
    # No colour border at all: only the stars say where the sky ends.
    photo, sky = starry_night(384, density=0.02, mountain=(35, 30, 70))
    paint = rasterise([stroke(0.15)], WORK).color_mask
    region = photo_region(photo, (0, 0, 384, 384), paint).at(photo)
    blind = photo_region(photo, (0, 0, 384, 384), paint, config=RegionConfig(texture_cost=0.0)).at(photo)
    assert (region[sky] > 0.5).mean() > 0.95 and (region[~sky] > 0.5).mean() < 0.2
    assert (blind[~sky] > 0.5).mean() > 0.9  # without the texture the two are one region


@pytest.mark.parametrize("kind", ["flat grey", "noise"])
def test_flat_and_noise_photos_give_an_edit_without_error(kind):
    rng = np.random.default_rng(3)
    photo = np.full((300, 300, 3), 128, np.uint8) if kind == "flat grey" else rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)
    region = region_on(photo, [stroke(0.3)])
    assert np.isfinite(region).all() and region.min() >= 0 and region.max() <= 1
    if kind == "flat grey":
        assert region.min() > 0.99  # all one region: all of it
    else:  # every step of noise is an edge: the stroke's own pixels change, as before this issue
        under = rasterise([stroke(0.3)], 300).color_mask >= 0.5
        assert region[under].mean() > 0.5 and region.mean() < 0.2


def test_region_is_the_same_at_any_photo_size():
    """The region's coefficients are applied to the photo's own pixels, so a larger copy gets the same region."""
    photo, _ = two_regions(1024, seed=4)
    small = cv2.resize(photo, (256, 256), interpolation=cv2.INTER_AREA)
    region = photo_region(photo, (0, 0, 1024, 1024), rasterise([stroke(0.1)], WORK).color_mask)
    large, reduced = region.at(photo), region.at(small)
    assert np.abs(cv2.resize(large, (256, 256), interpolation=cv2.INTER_AREA) - reduced).mean() < 0.02


def generated_edit(photo: np.ndarray, strokes: list[Stroke]) -> tuple[np.ndarray, np.ndarray]:
    """G(z0) ~ the photo at 64x64; G(z1): orange around the stroke only, and a drift of the ground (as a GAN does)."""
    source = cv2.resize(photo, (64, 64), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
    blob = np.clip(cv2.GaussianBlur(rasterise(strokes, 64).color_mask, (0, 0), 5) * 6, 0, 1)
    target = recolour(source, blob, np.array(ORANGE) / 255.0, strength=0.8)
    target[40:] = np.clip(target[40:] * 0.85 + 0.05, 0, 1)  # drift where nothing was painted
    return source, target


def test_both_renderers_carry_the_region_alike_and_keep_the_other_region(ctx):
    photo, sky = two_regions(320, seed=5)
    strokes = [stroke(0.1)]
    source, target = generated_edit(photo, strokes)
    spread = photo_region(photo, (0, 0, 320, 320), rasterise(strokes, WORK).color_mask)
    params = TransferEstimator()(source, target, region=edit_region(rasterise(strokes, 64)), spread=spread)
    assert not params.flow.any() and params.region_gain == 1.0
    outputs = []
    for renderer in (GLTransfer(ctx), OpenCVTransfer()):
        renderer.set_photo(photo)
        outputs.append(renderer.render(params))
    assert np.abs(outputs[0].astype(int) - outputs[1]).max() <= 2
    scores = naturalness(photo, outputs[1], ORANGE, sky)
    assert scores["coverage"] > 0.85 and scores["iou"] > 0.8 and scores["progress"] > 0.15 and scores["structure"] > 0.9
    assert scores["other_change"] < 1.0  # the drifting ground is kept
    # At the morph's first frame nothing changed: the photo, bit for bit.
    first = TransferEstimator()(source, source, region=edit_region(rasterise(strokes, 64)), spread=spread)
    for renderer in (GLTransfer(ctx), OpenCVTransfer()):
        renderer.set_photo(photo)
        assert np.array_equal(renderer.render(first), photo)


def test_region_texture_is_uploaded_once_per_region(ctx):
    photo, _ = two_regions(128, seed=6)
    strokes = [stroke(0.1)]
    source, target = generated_edit(photo, strokes)
    spread = photo_region(photo, (0, 0, 128, 128), rasterise(strokes, WORK).color_mask)
    estimator, renderer = TransferEstimator(), GLTransfer(ctx)
    renderer.set_photo(photo)
    renderer.render(estimator(source, target, region=edit_region(rasterise(strokes, 64)), spread=spread))
    texture = renderer.region.gl
    renderer.render(estimator(source, (source + target) / 2, region=edit_region(rasterise(strokes, 64)), spread=spread))
    assert renderer.region.gl is texture and renderer.region_source is spread.coefficients


def test_sketch_strokes_keep_their_reach_beside_a_region():
    photo, _ = two_regions(256, seed=7)
    paint, sketch = stroke(0.1), stroke(0.8, tool="sketch", width=0.02)
    source, target = generated_edit(photo, [paint])
    target = np.roll(target, 2, axis=1)  # G also moved everything
    spread = photo_region(photo, (0, 0, 256, 256), rasterise([paint], WORK).color_mask)
    params = TransferEstimator()(source, target, region=edit_region(rasterise([paint, sketch], 64)), spread=spread)
    moving = np.linalg.norm(params.flow, axis=-1) > 0
    assert moving.any() and not moving[:36].any()  # only near the sketch (row 51 of 64), never in the sky


def test_naturalness_of_a_plain_region_recolour():
    photo, sky = two_regions(128, seed=8)
    edited = photo.copy()
    edited[sky] = (0.5 * photo[sky] + 0.5 * np.array(ORANGE)).astype(np.uint8)
    scores = naturalness(photo, edited, ORANGE, sky)
    assert scores["coverage"] == 1.0 and scores["iou"] == 1.0 and scores["other_change"] == 0.0
    assert 0.45 < scores["progress"] < 0.55
    assert naturalness(photo, photo, ORANGE, sky)["coverage"] == 0.0


def test_label_maps_give_held_out_scenes_a_known_answer():
    """On held-out procedural scenes a sky stroke's region is mostly the sky of the label map, far more than the
    strokes' reach was (the benchmark, ``bench transfer --natural``, measures it on the transferred photo)."""
    ious, reach_ious = [], []
    for seed in (9001, 9002, 9003, 9004):
        photo, labels = render_landscape_with_labels(seed, config=LandscapeConfig(size=256, supersample=1))
        sky = labels == LABELS.index("sky")
        rows = np.nonzero(cv2.erode(sky.astype(np.uint8), np.ones((25, 25))).all(1))[0]
        line = stroke((rows[len(rows) // 2] + 0.5) / 256)
        region = region_on(photo, [line]) > 0.5
        region &= labels != LABELS.index("water")  # a water surface may follow the sky it reflects
        ious.append((region & sky).sum() / (region | sky).sum())
        reach = cv2.dilate((rasterise([line], 256).color_mask > 0).astype(np.uint8), np.ones((29, 29))) > 0  # 3.5 model px
        reach_ious.append((reach & sky).sum() / (reach | sky).sum())
    assert np.median(ious) > 0.6 and np.median(ious) > 2 * np.median(reach_ious)


def test_a_wide_photo_changes_its_sky_beyond_the_model_square_alike_in_both_renderers(ctx):
    """The model sees the centred square; the sky goes on beyond it, and so does the edit (the ground does not)."""
    wide, sky = two_regions(600, seed=9)
    wide, sky = wide[150:450], sky[150:450]  # [300, 600]: the sky's top half cut off
    rect = centre_square(300, 600)  # (150, 0, 300, 300)
    strokes = [stroke(0.15)]
    square = wide[:, 150:450]
    source, target = generated_edit(square, strokes)
    spread = photo_region(wide, rect, rasterise(strokes, WORK).color_mask)
    params = TransferEstimator()(source, target, region=edit_region(rasterise(strokes, 64)), spread=spread)
    outputs = []
    for renderer in (GLTransfer(ctx), OpenCVTransfer()):
        renderer.set_photo(wide, rect=rect)
        outputs.append(renderer.render(params))
    assert np.abs(outputs[0].astype(int) - outputs[1]).max() <= 2
    beyond = np.zeros(sky.shape, bool)
    beyond[:, :100] = beyond[:, 500:] = True  # more than 6 model pixels (28 photo pixels) beyond the square
    scores = naturalness(wide, outputs[1], ORANGE, sky & beyond)
    assert scores["coverage"] > 0.85 and scores["progress"] > 0.1
    assert np.array_equal(outputs[1][~sky & beyond & (np.arange(300)[:, None] > 260)], wide[~sky & beyond & (np.arange(300)[:, None] > 260)])


def test_the_bench_strokes_stay_inside_their_region_when_a_peak_splits_its_row():
    from demo.bench.transfer_natural import scene_stroke

    labels = np.zeros((240, 240), np.int64)  # 0: sky above 0.6 of the height, 1: ground
    labels[144:] = 1
    labels[40:144, 70:130] = 1  # a peak in the middle of the sky, wider at the sky's middle row than a stroke gap
    (x0, y), (x1, _) = scene_stroke(labels, 0)
    row = labels[int(y * 240)]
    assert row[int(x0 * 240):int(x1 * 240) + 1].max() == 0  # every pixel under the stroke is sky
    assert x1 - x0 > 0.1
