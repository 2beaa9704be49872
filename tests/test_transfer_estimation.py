"""Edit transfer, estimation: flow, the colour model, the change mask, the edit region and its reach."""

from __future__ import annotations

import numpy as np
import pytest

from demo.tools.brushes import Stroke, rasterise
from demo.transfer.color_model import ColorConfig, apply_local_affine, fit_local_affine
from demo.transfer.edit_region import edit_region
from demo.transfer.flow import FlowConfig, FlowEstimator, endpoint_error, warp
from demo.transfer.mask import change_mask, edit_reach
from demo.transfer.pipeline import TransferEstimator
from demo.transfer.synthetic import apply_affine_color, smooth_affine_color, smooth_flow, smooth_texture


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
