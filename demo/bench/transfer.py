"""Edit transfer benchmark: per-frame cost of carrying an edit onto a photo, shader path vs pure OpenCV.

Per frame, at model resolution (64x64, independent of the photo): flow estimation, the flow gate,
the color model and the mask. Then, at each photo size: texture upload of the frame's parameters, the shader
pass, readback, and the pure-OpenCV path (resize + remap + color + blend) on the same inputs, timed in
the same run, interleaved, median over repeats. ``ctx.finish()`` closes every GL stage so that the GL
times are real. Also compares flow estimators (endpoint error on synthetic known flows, and time).

``--faithful`` measures quality instead (docs/transfer.md): on real photos, with sessions that recolour one
region each (assets/sessions/transfer_<photo>_<region>.jsonl), how much the unpainted part changes and how far
the painted part moves toward the stroke colour, for the current estimator and for the one at ``--baseline``.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from demo.errors import UserError
from demo.gl.context import create_headless_context, describe
from demo.transfer.color_model import fit_local_affine
from demo.transfer.flow import FlowConfig, FlowEstimator, endpoint_error, warp
from demo.transfer.mask import change_mask
from demo.transfer.pipeline import EditTransfer, GLTransfer, OpenCVTransfer, TransferEstimator
from demo.transfer.synthetic import apply_affine_color, smooth_affine_color, smooth_flow, smooth_texture

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
    faithful = parser.add_argument_group("faithfulness (--faithful)")
    faithful.add_argument("--faithful", action="store_true",
                          help="measure edit faithfulness on real photos instead of speed (before vs after)")
    faithful.add_argument("--photos", type=Path, default=Path("assets/photos"), help="folder of photos (default: assets/photos)")
    faithful.add_argument("--sessions", type=Path, default=Path("assets/sessions"),
                          help="folder with transfer_<photo stem>_<region>.jsonl sessions (default: assets/sessions)")
    faithful.add_argument("--model", default="landscape64", help="model name or path (default: landscape64)")
    faithful.add_argument("--photo-size", type=int, default=1024, help="photos are resized to this square (default: 1024)")
    faithful.add_argument("--resamplers", default="cv2,pil",
                          help="Lanczos implementations the photo is resized with, each a separate run (default: cv2,pil)")
    faithful.add_argument("--projection-method", default="hybrid", choices=("opt", "encoder", "hybrid"),
                          help="projection method (default: hybrid)")
    faithful.add_argument("--projection-steps", type=int, default=100, help="projection steps (default: 100)")
    faithful.add_argument("--regions", default="sky,water,ground",
                          help="comma-separated regions whose sessions are run (default: sky,water,ground)")
    faithful.add_argument("--edit-steps", type=int, default=100, help="solver steps after the stroke (default: 100)")
    faithful.add_argument("--dilate", type=float, default=1 / 16,
                          help="unpainted = outside the strokes dilated by this fraction of the photo side (default: 1/16)")
    faithful.add_argument("--baseline", default="2cf6337", help="git commit whose estimator is 'before' (default: 2cf6337)")
    faithful.add_argument("--cache", type=Path, default=Path("out/transfer_faithful"),
                          help="projections and edits are cached here, by photo, resampler, steps and seed")


def _ms(seconds: list[float]) -> float:
    return round(1e3 * statistics.median(seconds), 3)


def _synthetic_frame(rng: np.random.Generator, size: int) -> tuple[np.ndarray, np.ndarray]:
    """G(z0)-like source and an edited target: moved by a smooth flow and recolored."""
    source = smooth_texture(rng, size, size)
    target = warp(source, smooth_flow(rng, size, size, amplitude=size / 20))
    return source, np.clip(apply_affine_color(target, smooth_affine_color(rng, size, size, strength=0.1)), 0, 1)


def _photo(rng: np.random.Generator, size: int) -> np.ndarray:
    picture = cv2.resize(smooth_texture(rng, 128, 128), (size, size), interpolation=cv2.INTER_CUBIC) * 255
    return np.clip(picture + rng.normal(0, 10, picture.shape) + 0.5, 0, 255).astype(np.uint8)


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
        row = time_photo_size(ctx, params, _photo(rng, size), args.repeats)
        row["frame_total_gl_ms"] = round(sum(estimation.values()) + row["gl_total_ms"], 3)
        row["frame_total_opencv_ms"] = round(sum(estimation.values()) + row["opencv_ms"], 3)
        results["per_frame_by_photo_size"][f"{size}x{size}"] = row
    if args.flow_images > 0:
        results["flow_methods"] = compare_flow_methods(args.flow_images, args.model_size, args.seed)
    return results


# Faithfulness on real photos (--faithful).


def resize_photo(photo: np.ndarray, size: int, resampler: str) -> np.ndarray:
    """The photo squashed to size x size by one of two Lanczos implementations (the issue's flip came from this)."""
    if resampler == "cv2":
        return cv2.resize(photo, (size, size), interpolation=cv2.INTER_LANCZOS4)
    if resampler == "pil":
        from PIL import Image

        return np.asarray(Image.fromarray(photo).resize((size, size), Image.Resampling.LANCZOS))
    raise UserError(f"unknown resampler {resampler!r} (choose from cv2, pil)")


def generated_pair(args, model, photo: np.ndarray, session_path: Path, *, key: str) -> tuple[np.ndarray, np.ndarray]:
    """(G(z0), G(z1)) [R, R, 3] uint8: the photo's hybrid projection and its edit by the session, cached on disk."""
    from demo.engine.interpolate import render_morph
    from demo.engine.projection import project
    from demo.engine.replay import replay_session
    from demo.tools.photo import centre_crop_resize
    from demo.tools.session import read_session

    resolution = model.card.resolution
    method = "" if args.projection_method == "hybrid" else f"_{args.projection_method}"
    projection_file = args.cache / "projections" / f"{model.card.name}_{key}{method}_p{args.projection_steps}_s{args.seed}.npz"
    if not projection_file.exists():
        projection = project(model, centre_crop_resize(photo, resolution), method=args.projection_method,
                             steps=args.projection_steps, seed=args.seed)
        projection_file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(projection_file, z=projection.z)
    z0 = np.load(projection_file)["z"]
    edit_file = projection_file.with_name(f"{projection_file.stem}_{session_path.stem}_e{args.edit_steps}.npz")
    if not edit_file.exists():
        outcome = replay_session(read_session(session_path), model=args.model, steps=args.edit_steps, candidates=None,
                                 seed=args.seed, device=args.device, resolution=resolution, start_z=z0)
        np.savez(edit_file, z=outcome.final.z[outcome.final.current])
    z1 = np.load(edit_file)["z"]
    ends = render_morph(model.G, z0, z1, frames=2, prior=model.card.prior)  # [2, R, R, 3]
    return ends[0], ends[1]


def run_faithful(args) -> dict:
    import torch
    from tqdm import tqdm

    from demo.engine.checkpoint import load_model
    from demo.engine.device import pick_device
    from demo.tools.brushes import rasterise
    from demo.tools.edit_state import EditState
    from demo.tools.photo import load_photo
    from demo.tools.session import read_session
    from demo.transfer.baseline import load_baseline_estimator
    from demo.transfer.edit_region import edit_region
    from demo.transfer.faithfulness import faithfulness, stroke_regions, summarise

    torch.set_num_threads(1)
    sessions = sorted(args.sessions.glob("transfer_*.jsonl"))
    photos = {path.stem: path for path in sorted(args.photos.iterdir()) if path.suffix.lower() in (".jpg", ".jpeg", ".png")}
    wanted = {region.strip() for region in args.regions.split(",") if region.strip()}
    cases = [(photos[name], session) for session in sessions for name in photos
             if session.stem.startswith(f"transfer_{name}_") and session.stem[len(f"transfer_{name}_"):] in wanted]
    if not cases:
        raise UserError(f"no transfer_<photo>_<region>.jsonl session in {args.sessions} names a photo in {args.photos}")
    model = load_model(args.model, device=pick_device(args.device))
    before = load_baseline_estimator(args.baseline, cache=args.cache)
    after = TransferEstimator()
    renderer = OpenCVTransfer()
    rows = []
    for resampler in [r.strip() for r in args.resamplers.split(",") if r.strip()]:
        for photo_path, session_path in tqdm(cases, desc=f"faithful ({resampler})", unit="edit", disable=None):
            photo = resize_photo(load_photo(photo_path), args.photo_size, resampler)
            region = session_path.stem[len(f"transfer_{photo_path.stem}_"):]
            source, target = generated_pair(args, model, photo, session_path, key=f"{photo_path.stem}_{resampler}")
            source, target = source.astype(np.float32) / 255.0, target.astype(np.float32) / 255.0
            state = EditState()
            for event in read_session(session_path).events:
                state.apply(event)
            canvas = rasterise(state.strokes, args.photo_size)
            coverage = np.maximum(canvas.color_mask, np.maximum(canvas.sketch_mask, canvas.warp_mask))
            regions = stroke_regions(canvas.color, coverage, dilate=round(args.dilate * args.photo_size))
            strokes = edit_region(state.constraints(source.shape[0]))  # [R, R], as the transfer command passes it
            renderer.set_photo(photo)
            row = {"photo": photo_path.stem, "region": region, "resampler": resampler,
                   "generated_change_unpainted": round(float(255 * np.abs(target - source).mean(-1)[
                       cv2.resize(regions.unpainted.astype(np.uint8), source.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
                   ].mean()), 2)}
            variants = {"before": lambda: before(source, target), "after": lambda: after(source, target, region=strokes),
                        "after_without_strokes": lambda: after(source, target)}
            for label, estimate in variants.items():
                params = estimate()
                result = renderer.render(EditTransfer(flow=params.flow, color=params.color, mask=params.mask))
                for name, value in faithfulness(photo, result, regions).items():
                    row[f"{label}_{name}"] = round(value, 4)
                row[f"{label}_max_flow"] = round(float(np.abs(params.flow).max()), 3)
            rows.append(row)
    return {"suite": "transfer-faithful", "model": model.card.name, "photo_size": args.photo_size,
            "projection": f"{args.projection_method}, {args.projection_steps} steps", "edit_steps": args.edit_steps,
            "baseline": args.baseline, "dilate_px": round(args.dilate * args.photo_size),
            "summary": summarise(rows, labels=("before", "after", "after_without_strokes")), "rows": rows}
