"""Natural edit transfer (``bench transfer --natural``, issue 31): a colour stroke inside one region of a photo
should change that region, all of it, up to its border, and nothing else.

Cases with a known answer: procedural landscapes drawn at ``--photo-size`` with their label maps
(``render_landscape_with_labels``, seeds from ``--natural-seed``: held out, the region's parameters were tuned on
seeds 100-123), one horizontal stroke inside the sky and one inside the water or the ground; and real photos
(``assets/photos``) with region borders traced by hand (``assets/photos/masks``), edited by their sessions
(``assets/sessions/transfer_<photo>_<region>.jsonl``). Each edit is projected, replayed and carried onto the
photo twice through the OpenCV renderer (which agrees with the shader within 2/255): *before*, confined to
the strokes' reach (``--confine strokes``), and *after*, over the strokes' region (``--confine region``).
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from demo.data.grid import save_png
from demo.safe_files import replace_file
from demo.transfer.naturalness import border_band, naturalness

STROKE_COLOURS = {"sky": (250, 140, 40), "water": (30, 70, 180), "ground": (225, 190, 60)}
MEASURES = ("iou", "coverage", "progress", "structure", "other_change")


def add_natural_arguments(parser) -> None:
    natural = parser.add_argument_group("naturalness (--natural)")
    natural.add_argument("--natural", action="store_true",
                         help="measure whether a colour edit changes its region of the photo, all of it and nothing else")
    natural.add_argument("--scenes", type=int, default=6, help="procedural scenes (default: 6)")
    natural.add_argument("--natural-seed", type=int, default=5000, help="first procedural scene seed (default: 5000)")
    natural.add_argument("--masks", type=Path, default=Path("assets/photos/masks"),
                         help="hand-traced region masks <photo>_<region>.png (default: assets/photos/masks); 'none' skips photos")
    natural.add_argument("--grid", type=Path, default=Path("out/transfer_natural/grid.png"),
                         help="photo | strokes | before | after, one row per case (default: out/transfer_natural/grid.png)")


def scene_stroke(labels: np.ndarray, label: int) -> list[tuple[float, float]] | None:
    """Two points (x, y in 0..1) of a horizontal stroke well inside the pixels of ``label`` (within one run of them
    along the region's middle row), or None."""
    side = labels.shape[0]
    inner = cv2.erode((labels == label).astype(np.uint8), np.ones((side // 12 + 1,) * 2, np.uint8))
    rows = np.nonzero(inner.any(1))[0]
    if rows.size == 0:
        return None
    row = int(rows[len(rows) // 2])
    # The longest run of the region along that row: a peak or an island in the middle of it is another region.
    inside = np.concatenate([[0], inner[row].astype(np.int8), [0]])
    starts, ends = np.nonzero(np.diff(inside) == 1)[0], np.nonzero(np.diff(inside) == -1)[0]
    longest = int(np.argmax(ends - starts))
    left, right = int(starts[longest]), int(ends[longest]) - 1
    y = (row + 0.5) / side
    return [((left + 0.2 * (right - left)) / side, y), ((left + 0.6 * (right - left)) / side, y)]


def write_session(path: Path, points: list[tuple[float, float]], colour, *, note: str) -> Path:
    """A one-stroke colour session (width 4% of the side)."""
    lines = [{"type": "meta", "version": 1, "model": "landscape64", "note": note}]
    lines.append({"t": 0.0, "type": "down", "tool": "color", "x": points[0][0], "y": points[0][1], "pressure": 1.0,
                  "color": list(colour), "width": 0.04})
    lines += [{"t": 0.05 * (i + 1), "type": "move", "x": x, "y": y, "pressure": 1.0} for i, (x, y) in enumerate(points[1:])]
    lines.append({"t": 0.05 * len(points), "type": "up"})
    path.parent.mkdir(parents=True, exist_ok=True)
    return replace_file(path, "".join(json.dumps(line) + "\n" for line in lines))


def procedural_cases(args) -> list[dict]:
    """Scenes with label maps: a stroke in the sky, and one in the water (or the ground when there is none)."""
    from demo.data.landscapes import LABELS, LandscapeConfig, render_landscape_with_labels

    cases = []
    for seed in range(args.natural_seed, args.natural_seed + args.scenes):
        photo, labels = render_landscape_with_labels(seed, config=LandscapeConfig(size=args.photo_size, supersample=1))
        below = "water" if (labels == LABELS.index("water")).mean() > 0.1 else "ground"
        for region in ("sky", below):
            points = scene_stroke(labels, LABELS.index(region))
            if points is None:
                continue
            session = write_session(args.cache / "natural_sessions" / f"scene{seed}_{region}.jsonl", points,
                                    STROKE_COLOURS[region], note=f"bench transfer --natural: scene {seed}, {region}")
            reflection = (labels == LABELS.index("water")) if region == "sky" else np.zeros(labels.shape, bool)
            cases.append({"name": f"scene{seed}", "kind": "procedural", "region": region, "photo": photo,
                          "truth": labels == LABELS.index(region), "ignore": reflection, "session": session})
    return cases


def photo_cases(args) -> list[dict]:
    """Real photos squashed to a square, with their hand-traced regions; a band of 1% of the side along every
    traced border counts for nothing (the tracing is that coarse), nor does water under a painted sky."""
    from demo.bench.transfer_faithful import resize_photo
    from demo.tools.photo import load_photo

    if str(args.masks) == "none" or not args.masks.is_dir():
        return []
    size, cases = args.photo_size, []
    for mask_path in sorted(args.masks.glob("*.png")):
        stem, region = mask_path.stem.rsplit("_", 1)
        session = args.sessions / f"transfer_{stem}_{region}.jsonl"
        photo_path = args.photos / f"{stem}.jpg"
        if not session.exists() or not photo_path.exists():
            continue
        truth = resize_photo(load_photo(mask_path), size, "cv2")[..., 0] > 127
        ignore = border_band(truth, width=size // 100)
        water = args.masks / f"{stem}_water.png"
        if region == "sky" and water.exists():
            reflecting = resize_photo(load_photo(water), size, "cv2")[..., 0] > 127
            ignore |= reflecting | border_band(reflecting, width=size // 100)
        cases.append({"name": stem, "kind": "photo", "region": region, "photo": resize_photo(load_photo(photo_path), size, "cv2"),
                      "truth": truth, "ignore": ignore, "session": session})
    return cases


def run_natural(args) -> dict:
    import torch
    from tqdm import tqdm

    from demo.bench.transfer_faithful import generated_pair
    from demo.engine.checkpoint import load_model
    from demo.engine.device import pick_device
    from demo.engine.projection import cache_tag
    from demo.tools.brushes import rasterise
    from demo.tools.edit_state import EditState
    from demo.tools.session import read_session
    from demo.transfer.edit_region import edit_region
    from demo.transfer.pipeline import OpenCVTransfer, TransferEstimator
    from demo.transfer.region import RegionConfig, photo_region

    torch.set_num_threads(1)
    model = load_model(args.model, device=pick_device(args.device))
    model_tag = cache_tag(args.model)
    cases = procedural_cases(args) + photo_cases(args)
    estimator, renderer, rows, tiles = TransferEstimator(), OpenCVTransfer(), [], []
    for case in tqdm(cases, desc="natural", unit="edit", disable=None):
        photo, size = case["photo"], args.photo_size
        # Photos share the faithfulness bench's projections (the same squashed photo); scenes have their own.
        key = f"{model_tag}_{case['name']}_cv2" if case["kind"] == "photo" else f"{model_tag}_{case['name']}_natural{size}"
        source, target = (image.astype(np.float32) / 255.0 for image in generated_pair(args, model, photo, case["session"], key=key))
        state = EditState()
        for event in read_session(case["session"]).events:
            state.apply(event)
        strokes = edit_region(state.constraints(source.shape[0]))
        colour = np.asarray(state.strokes[0].color, np.float32)
        spread = photo_region(photo, (0, 0, size, size), rasterise(state.strokes, RegionConfig().work_side).color_mask)
        renderer.set_photo(photo)
        row = {"case": case["name"], "kind": case["kind"], "region": case["region"],
               "generated_change_outside": round(float(255 * np.abs(target - source).mean(-1)[
                   cv2.resize((~case["truth"]).astype(np.uint8), source.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0].mean()), 2)}
        results = {"before": renderer.render(estimator(source, target, region=strokes)).copy(),
                   "after": renderer.render(estimator(source, target, region=strokes, spread=spread)).copy()}
        for label, result in results.items():
            for name, value in naturalness(photo, result, colour, case["truth"], ignore=case["ignore"]).items():
                row[f"{label}_{name}"] = round(value, 4)
        rows.append(row)
        painted = photo.copy()
        painted[rasterise(state.strokes, size).color_mask >= 0.5] = colour.astype(np.uint8)
        tiles.append(np.concatenate([photo, painted, results["before"], results["after"]], axis=1))
    if tiles:
        grid = np.concatenate([cv2.resize(t, (4 * 256, 256), interpolation=cv2.INTER_AREA) for t in tiles], axis=0)
        save_png(args.grid, grid)
    return {"suite": "transfer-natural", "model": model.card.name, "photo_size": args.photo_size,
            "projection": f"{args.projection_method}, {args.projection_steps} steps", "edit_steps": args.edit_steps,
            "grid": str(args.grid), "summary": summarise_natural(rows), "rows": rows}


def summarise_natural(rows: list[dict]) -> dict:
    """Per kind (procedural, photo) and label (before, after): median, mean and range of each measure."""
    summary: dict[str, dict] = {}
    for kind in sorted({row["kind"] for row in rows}):
        group = [row for row in rows if row["kind"] == kind]
        entry: dict[str, object] = {"cases": len(group)}
        for label in ("before", "after"):
            for name in MEASURES:
                values = np.array([row[f"{label}_{name}"] for row in group], np.float64)
                values = values[np.isfinite(values)]
                if values.size:
                    entry[f"{label}_{name}"] = {"median": round(float(np.median(values)), 3), "mean": round(float(values.mean()), 3),
                                                "min": round(float(values.min()), 3), "max": round(float(values.max()), 3)}
        summary[kind] = entry
    return summary
