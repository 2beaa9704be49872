"""Edit transfer benchmark: per-frame cost of carrying an edit onto a photo, shader path vs pure OpenCV.

Per frame, at model resolution (64x64, independent of the photo): flow estimation, the flow gate,
the color model and the mask. Then, at each photo size: texture upload of the frame's parameters, the shader
pass, readback, and the pure-OpenCV path (resize + remap + color + blend) on the same inputs, timed in
the same run, interleaved, median over repeats. ``ctx.finish()`` closes every GL stage so that the GL
times are real. Also compares flow estimators (endpoint error on synthetic known flows, and time).

``--faithful`` measures quality instead (demo/bench/transfer_faithful.py): the guard on the regions no stroke is
in; ``--natural`` measures whether a colour edit changes its whole region and nothing else
(demo/bench/transfer_natural.py).

examples:
  python -m demo bench transfer
  python -m demo bench transfer --natural
  python -m demo bench transfer --natural --scenes 0 --photos assets/photos/heldout --masks assets/photos/heldout/masks
  python -m demo bench transfer --faithful --resamplers cv2
"""

from __future__ import annotations

import statistics
import time

import cv2
import numpy as np

from demo.bench.transfer_faithful import add_faithful_arguments, run_faithful
from demo.bench.transfer_natural import add_natural_arguments, run_natural
from demo.gl.context import create_headless_context, describe
from demo.transfer.color_model import fit_local_affine
from demo.transfer.flow import FlowConfig, FlowEstimator, endpoint_error, warp
from demo.transfer.mask import change_mask
from demo.transfer.pipeline import EditTransfer, GLTransfer, OpenCVTransfer, TransferEstimator
from demo.transfer.synthetic import apply_affine_color, noisy_photo, smooth_affine_color, smooth_flow, smooth_texture

FLOW_CANDIDATES = (
    FlowConfig(method="dis", preset="tuned", upscale=1),
    FlowConfig(method="dis", preset="ultrafast", upscale=1),
    FlowConfig(method="dis", preset="fast", upscale=1),
    FlowConfig(method="dis", preset="medium", upscale=1),
    FlowConfig(method="dis", preset="medium", upscale=2),
    FlowConfig(method="dis", preset="medium", upscale=4),
    FlowConfig(method="farneback", upscale=1),
    FlowConfig(method="farneback", upscale=2),
)
AMPLITUDES = (1.0, 3.0, 6.0)


def add_arguments(parser) -> None:
    parser.add_argument("--sizes", default="512,1024", help="comma-separated square photo sizes (default: 512,1024)")
    parser.add_argument("--repeats", type=int, default=15, help="timed frames per size; medians are reported (default: 15)")
    parser.add_argument("--model-size", type=int, default=64, help="generator resolution the edit is estimated at (default: 64)")
    parser.add_argument("--flow-images", type=int, default=8,
                        help="synthetic images per amplitude for the flow comparison; 0 skips it (default: 8)")
    add_faithful_arguments(parser)
    add_natural_arguments(parser)


def _ms(seconds: list[float]) -> float:
    return round(1e3 * statistics.median(seconds), 3)


def _synthetic_frame(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """G(z0)-like source and an edited target: moved by a smooth flow and recolored."""
    source = smooth_texture(rng, size, size)
    target = warp(source, smooth_flow(rng, size, size, amplitude=size / 20))
    return source, np.clip(apply_affine_color(target, smooth_affine_color(rng, size, size, strength=0.1)), 0, 1)


def time_estimation(source: np.ndarray, target: np.ndarray, repeats: int) -> tuple[EditTransfer, dict]:
    """The estimator's stages at model resolution: the per-frame work before any photo pixel."""
    estimator = TransferEstimator()
    times: dict[str, list[float]] = {"flow": [], "flow_gate": [], "color_model": [], "mask": []}
    for _ in range(repeats):
        t0 = time.perf_counter()
        flow = estimator.flow_estimator(target, source)
        t1 = time.perf_counter()
        flow = estimator.gate(flow, source, target)
        t2 = time.perf_counter()
        color = fit_local_affine(warp(source, flow), target)
        t3 = time.perf_counter()
        mask = change_mask(source, target, flow)
        t4 = time.perf_counter()
        for name, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            times[name].append(seconds)
    params = EditTransfer(flow=flow, color=color, mask=mask)
    assert np.allclose(estimator(source, target).color, params.color)  # the stages are the estimator's
    return params, {f"{name}_ms": _ms(t) for name, t in times.items()}


def time_photo_size(ctx, params: EditTransfer, photo: np.ndarray, repeats: int) -> dict:
    """Shader path stages and the OpenCV path at one photo size, interleaved."""
    gl, reference = GLTransfer(ctx), OpenCVTransfer()
    t0 = time.perf_counter()
    gl.set_photo(photo)
    ctx.finish()
    photo_upload = time.perf_counter() - t0
    reference.set_photo(photo)
    out = np.empty_like(photo)
    times: dict[str, list[float]] = {"upload": [], "shader": [], "readback": [], "opencv": []}
    for repeat in range(repeats + 1):  # the first round warms up (shader JIT, page faults) and is dropped
        t0 = time.perf_counter()
        gl.upload(params)
        ctx.finish()
        t1 = time.perf_counter()
        gl.draw()
        ctx.finish()
        t2 = time.perf_counter()
        gl.read(out=out)
        t3 = time.perf_counter()
        expected = reference.render(params)
        t4 = time.perf_counter()
        if repeat:
            for name, seconds in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
                times[name].append(seconds)
    gl_total = [a + b + c for a, b, c in zip(times["upload"], times["shader"], times["readback"])]
    row = {f"{name}_ms": _ms(t) for name, t in times.items()}
    row["photo_upload_once_ms"] = round(1e3 * photo_upload, 3)
    row["gl_total_ms"] = _ms(gl_total)
    row["ratio_shader_to_opencv"] = round(statistics.median(times["shader"]) / statistics.median(times["opencv"]), 3)
    row["ratio_gl_total_to_opencv"] = round(statistics.median(gl_total) / statistics.median(times["opencv"]), 3)
    row["max_abs_difference_gl_vs_opencv"] = int(np.abs(out.astype(int) - expected.astype(int)).max())
    return row


def compare_flow_methods(images: int, model_size: int, seed: int) -> list[dict]:
    """Endpoint error on synthetic known flows (backward warps of GAN-like textures), and ms per call."""
    rng = np.random.default_rng(seed)
    cases = []
    for _ in range(images):
        source = smooth_texture(rng, model_size, model_size)
        for amplitude in AMPLITUDES:
            truth = smooth_flow(rng, model_size, model_size, amplitude=amplitude * model_size / 64)
            cases.append((amplitude, warp(source, truth), source, truth))
    rows = [{"method": "zero flow (baseline)", **{f"epe_{a:g}px": round(float(np.mean(
        [endpoint_error(0 * t, t, border=2) for amp, _, _, t in cases if amp == a])), 3) for a in AMPLITUDES}}]
    for config in FLOW_CANDIDATES:
        estimator = FlowEstimator(config)
        errors: dict[float, list[float]] = {a: [] for a in AMPLITUDES}
        seconds = []
        for amplitude, target, source, truth in cases:
            t0 = time.perf_counter()
            flow = estimator(target, source)
            seconds.append(time.perf_counter() - t0)
            errors[amplitude].append(endpoint_error(flow, truth, border=2))
        name = f"{config.method}" + (f" {config.preset}" if config.method == "dis" else "") + f" x{config.upscale}"
        rows.append({"method": name, **{f"epe_{a:g}px": round(float(np.mean(e)), 3) for a, e in errors.items()},
                     "ms": _ms(seconds)})
    return rows


def run(args) -> dict:
    if args.natural:
        return run_natural(args)  # quality, not speed
    if args.faithful:
        return run_faithful(args)
    ctx = create_headless_context()
    try:
        return _run(args, ctx)
    finally:
        ctx.release()  # a live headless context would stop a later window context from being wrapped


def _run(args, ctx) -> dict:
    rng = np.random.default_rng(args.seed)
    source, target = _synthetic_frame(rng, args.model_size)
    params, estimation = time_estimation(source, target, args.repeats)
    sizes = [int(s) for s in str(args.sizes).split(",") if s.strip()]
    results = {
        "suite": "transfer",
        "gl": describe(ctx),
        "opencv": {"version": cv2.__version__, "threads": cv2.getNumThreads()},
        "model_size": args.model_size,
        "repeats": args.repeats,
        "per_frame_estimation": estimation,
        "per_frame_by_photo_size": {},
    }
    for size in sizes:
        row = time_photo_size(ctx, params, noisy_photo(rng, size, size, texture_size=128, grain=10.0), args.repeats)
        row["frame_total_gl_ms"] = round(sum(estimation.values()) + row["gl_total_ms"], 3)
        row["frame_total_opencv_ms"] = round(sum(estimation.values()) + row["opencv_ms"], 3)
        results["per_frame_by_photo_size"][f"{size}x{size}"] = row
    if args.flow_images > 0:
        results["flow_methods"] = compare_flow_methods(args.flow_images, args.model_size, args.seed)
    return results
