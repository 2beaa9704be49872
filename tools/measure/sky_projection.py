"""Hybrid projections of held-out night / dusk / day scenes, per sky kind.

The scenes are drawn at 256^2 and area-downsampled to 64^2, as issue 10 did. Prints, per kind: pixel RMSE of
the projection against the 64^2 scene, beside the RMSE of a flat image of the scene's mean colour (a
projection no better than that is mush), the same two at 16^2 (4x4 area means: the layout of sky, ridges,
moon and water, with single-pixel stars averaged away), and detail kept (gradient energy of the projection /
of the scene).

    .venv/bin/python tools/measure/sky_projection.py landscape64 [threads]
"""

import json
import sys

import cv2
import numpy as np
import torch

from demo.data.landscapes import LandscapeConfig, describe_landscape, render_batch
from demo.engine.checkpoint import load_model
from demo.engine.projection import project

PER_KIND = 6
FIRST_SEED = 10_005_000  # held out: training data uses seeds below 10,000,000


def seeds_by_sky(kinds: tuple[str, ...]) -> dict[str, list[int]]:
    picked: dict[str, list[int]] = {kind: [] for kind in kinds}
    seed = FIRST_SEED
    while any(len(seeds) < PER_KIND for seeds in picked.values()):
        kind = describe_landscape(seed)["sky"]
        if kind in picked and len(picked[kind]) < PER_KIND:
            picked[kind].append(seed)
        seed += 1
    return picked


def energy(image: np.ndarray) -> float:
    x = image.astype(np.float64)
    return float(np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean())


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(((a.astype(np.float64) - b) ** 2).mean()))


def layout(image: np.ndarray) -> np.ndarray:
    """[64, 64, 3] -> [16, 16, 3] float: 4x4 area means."""
    return image.astype(np.float64).reshape(16, 4, 16, 4, 3).mean((1, 3))


def main() -> None:
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    model = load_model(sys.argv[1])
    report = {}
    for kind, seeds in seeds_by_sky(("night", "dusk", "day")).items():
        errors, flat, errors16, flat16, detail = [], [], [], [], []
        for image in render_batch(seeds, config=LandscapeConfig(size=256)):
            low = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
            projected = project(model, low, method="hybrid", steps=100, seed=0).image
            mean_colour = low.reshape(-1, 3).mean(0)
            errors.append(rmse(projected, low))
            flat.append(rmse(low, mean_colour))
            errors16.append(rmse(layout(projected), layout(low)))
            flat16.append(rmse(layout(low), mean_colour))
            detail.append(energy(projected) / max(energy(low), 1e-6))
        report[kind] = {"rmse_median": round(float(np.median(errors)), 1), "rmse_max": round(max(errors), 1),
                        "flat_colour_rmse_median": round(float(np.median(flat)), 1),
                        "rmse16_median": round(float(np.median(errors16)), 1),
                        "rmse16_max": round(max(errors16), 1),
                        "flat_colour_rmse16_median": round(float(np.median(flat16)), 1),
                        "detail_median": round(float(np.median(detail)), 2), "seeds": seeds}
        print(kind, report[kind], flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
