"""Projection table: opt vs encoder vs hybrid on held-out procedural images and real photos.

opt and hybrid get the same step budget and the same batch of K starts, so their time budgets
match (the encoder's forward pass is a fraction of a step); measured seconds are reported too.
Held-out procedural images use seeds far outside the training range (0..59999).
"""

from __future__ import annotations

import statistics
from pathlib import Path

import numpy as np

HELD_OUT_SEED_BASE = 10_000_000
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="landscape64", help="model with an encoder (default: landscape64)")
    parser.add_argument("--procedural", type=int, default=16, help="held-out procedural landscapes (default: 16)")
    parser.add_argument("--photos", type=Path, default=Path("assets/photos"), help="folder of real photos (default: assets/photos)")
    parser.add_argument("--steps", type=int, default=100, help="step budget for opt and hybrid (default: 100)")
    parser.add_argument("--candidates", type=int, default=8, help="parallel starts for opt and hybrid (default: 8)")
    parser.add_argument("--grid", type=Path, default=None, help="write a target|opt|encoder|hybrid comparison PNG here")


def held_out_targets(args, resolution: int) -> list[tuple[str, str, np.ndarray]]:
    """(source, name, [R, R, 3] uint8) for each held-out image."""
    from demo.data.landscapes import LandscapeConfig, render_landscape
    from demo.tools.photo import centre_crop_resize, load_photo

    targets = []
    for i in range(args.procedural):
        seed = HELD_OUT_SEED_BASE + i
        targets.append(("procedural", f"seed{seed}", render_landscape(seed, config=LandscapeConfig(size=resolution))))
    if args.photos and args.photos.is_dir():
        for path in sorted(args.photos.iterdir()):
            if path.suffix.lower() in PHOTO_SUFFIXES:
                targets.append(("photo", path.name, centre_crop_resize(load_photo(path), resolution)))
    return targets


def run(args) -> dict:
    from tqdm import tqdm

    from demo.engine.checkpoint import load_model
    from demo.engine.device import pick_device
    from demo.engine.projection import METHODS, project

    device = pick_device(args.device)
    model = load_model(args.model, device=device)
    targets = held_out_targets(args, model.card.resolution)
    measured: dict[tuple[str, str], list] = {}
    images = []
    for source, name, target in tqdm(targets, desc="projection table", unit="image", disable=None):
        row = [target]
        for method in METHODS:
            result = project(model, target, method=method, steps=args.steps, seed=args.seed, candidates=args.candidates)
            measured.setdefault((source, method), []).append(result)
            row.append(result.image)
        images.append(row)
    rows = []
    for (source, method), results in measured.items():
        rows.append({
            "source": source,
            "method": method,
            "images": len(results),
            "steps": results[0].steps,
            "pixel_rmse": round(statistics.mean(r.pixel_rmse for r in results), 2),
            "perceptual": round(statistics.mean(r.perceptual for r in results), 4) if results[0].perceptual is not None else None,
            "seconds": round(statistics.mean(r.seconds for r in results), 3),
        })
    if args.grid is not None:
        from demo.data.grid import image_grid, save_png

        sheet = np.stack([image for row in images for image in row])
        save_png(args.grid, image_grid(sheet, columns=4))
    table = ["| source | method | images | steps | pixel RMSE (0..255) | perceptual (D features) | seconds/image |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append(f"| {r['source']} | {r['method']} | {r['images']} | {r['steps']} | {r['pixel_rmse']} | {r['perceptual']} | {r['seconds']} |")
    return {"bench": "projection", "model": model.card.name, "device": str(device), "candidates": args.candidates,
            "rows": rows, "markdown": "\n".join(table)}
