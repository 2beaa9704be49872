"""Edit-transfer faithfulness on real photos (``bench transfer --faithful``, docs/transfer.md).

With sessions that recolour one region each (assets/sessions/transfer_<photo>_<region>.jsonl): how much the
unpainted part of the photo changes and how far the painted part moves toward the stroke colour, for the
estimator at ``--baseline`` (before), the current one confined to the strokes' reach (after, ``--confine
strokes``) and over the strokes' region (after_region, ``--confine region``, the default). A colour edit now
changes its whole region, far beyond the strokes, so the guard is on the *other* regions: where a border was
traced by hand (``--masks``: <photo>_<region>.png), the mean change outside the painted region (less a band of
1% of the side along every traced border, and less the water under a painted sky) must stay within 6/255.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from demo.errors import UserError
from demo.transfer.naturalness import border_band
from demo.transfer.pipeline import OpenCVTransfer, TransferEstimator
from demo.transfer.region import RegionConfig, photo_region

GUARD = 6.0  # the most the other regions may change, mean over pixels and channels, 0..255


def add_faithful_arguments(parser) -> None:
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
                          help="projections and edits are cached here, by model file, photo, resampler, steps and seed")


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
    from demo.engine.solver_config import SolverConfig
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
    # The edit depends on the session's strokes and on the anchor's weight: a change to either means a new edit.
    anchor = SolverConfig().photo_prior_weight
    strokes = hashlib.sha1(session_path.read_bytes()).hexdigest()[:8]
    edit_file = projection_file.with_name(
        f"{projection_file.stem}_{session_path.stem}_{strokes}_e{args.edit_steps}_a{anchor:g}.npz")
    if not edit_file.exists():
        outcome = replay_session(read_session(session_path), model=args.model, steps=args.edit_steps, candidates=None,
                                 seed=args.seed, device=args.device, resolution=resolution, start_z=z0)
        np.savez(edit_file, z=outcome.final.z[outcome.final.current])
    z1 = np.load(edit_file)["z"]
    ends = render_morph(model.G, z0, z1, frames=2, prior=model.card.prior)  # [2, R, R, 3]
    return ends[0], ends[1]


def other_regions(masks: Path, stem: str, region: str, size: int, resampler: str) -> np.ndarray | None:
    """[size, size] bool: outside the hand-traced ``region`` of photo ``stem`` (less the border band and the water
    under a painted sky), or None when that region was not traced."""
    from demo.tools.photo import load_photo

    path = masks / f"{stem}_{region}.png"
    if not path.exists():
        return None
    inside = resize_photo(load_photo(path), size, resampler)[..., 0] > 127
    other = ~inside & ~border_band(inside, width=size // 100)
    water = masks / f"{stem}_water.png"
    if region == "sky" and water.exists():
        reflecting = resize_photo(load_photo(water), size, resampler)[..., 0] > 127
        other &= ~reflecting & ~border_band(reflecting, width=size // 100)
    return other


def run_faithful(args) -> dict:
    import torch
    from tqdm import tqdm

    from demo.engine.checkpoint import load_model
    from demo.engine.device import pick_device
    from demo.engine.projection import cache_tag
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
    model_tag = cache_tag(args.model)  # the model file's content and the projection loss, hashed once
    before = load_baseline_estimator(args.baseline, cache=args.cache)
    after = TransferEstimator()
    renderer = OpenCVTransfer()
    rows = []
    for resampler in [r.strip() for r in args.resamplers.split(",") if r.strip()]:
        for photo_path, session_path in tqdm(cases, desc=f"faithful ({resampler})", unit="edit", disable=None):
            photo = resize_photo(load_photo(photo_path), args.photo_size, resampler)
            region = session_path.stem[len(f"transfer_{photo_path.stem}_"):]
            source, target = generated_pair(args, model, photo, session_path, key=f"{model_tag}_{photo_path.stem}_{resampler}")
            source, target = source.astype(np.float32) / 255.0, target.astype(np.float32) / 255.0
            state = EditState()
            for event in read_session(session_path).events:
                state.apply(event)
            canvas = rasterise(state.strokes, args.photo_size)
            coverage = np.maximum(canvas.color_mask, np.maximum(canvas.sketch_mask, canvas.warp_mask))
            regions = stroke_regions(canvas.color, coverage, dilate=round(args.dilate * args.photo_size))
            strokes = edit_region(state.constraints(source.shape[0]))  # [R, R], as the transfer command passes it
            spread = photo_region(photo, (0, 0, args.photo_size, args.photo_size),
                                  rasterise(state.strokes, RegionConfig().work_side).color_mask)
            renderer.set_photo(photo)
            row = {"photo": photo_path.stem, "region": region, "resampler": resampler,
                   "generated_change_unpainted": round(float(255 * np.abs(target - source).mean(-1)[
                       cv2.resize(regions.unpainted.astype(np.uint8), source.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
                   ].mean()), 2)}
            variants = {"before": lambda: before(source, target), "after": lambda: after(source, target, region=strokes),
                        "after_without_strokes": lambda: after(source, target),
                        "after_region": lambda: after(source, target, region=strokes, spread=spread)}
            other = other_regions(args.masks, photo_path.stem, region, args.photo_size, resampler)
            for label, estimate in variants.items():
                params = estimate()
                result = renderer.render(params)
                for name, value in faithfulness(photo, result, regions).items():
                    row[f"{label}_{name}"] = round(value, 4)
                row[f"{label}_max_flow"] = round(float(np.abs(params.flow).max()), 3)
                if other is not None and other.any():
                    row[f"{label}_other_regions_mean_change"] = round(float(np.abs(
                        result.astype(np.float32) - photo.astype(np.float32)).mean(-1)[other].mean()), 3)
            rows.append(row)
    return {"suite": "transfer-faithful", "model": model.card.name, "photo_size": args.photo_size,
            "projection": f"{args.projection_method}, {args.projection_steps} steps", "edit_steps": args.edit_steps,
            "baseline": args.baseline, "dilate_px": round(args.dilate * args.photo_size),
            "summary": summarise(rows, labels=("before", "after", "after_without_strokes", "after_region")),
            "guard": guard(rows), "rows": rows}


def guard(rows: list[dict]) -> dict:
    """The other regions' change with --confine region, over the edits whose region was traced by hand."""
    changes = np.array([row["after_region_other_regions_mean_change"] for row in rows
                        if "after_region_other_regions_mean_change" in row], np.float64)
    if not changes.size:
        return {"edits": 0}
    return {"edits": int(changes.size), "limit": GUARD, "median": round(float(np.median(changes)), 3),
            "worst": round(float(changes.max()), 3), "passing": int((changes <= GUARD).sum())}
