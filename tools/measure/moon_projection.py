"""Does the projection of a held-out night scene draw its moon? Per model: hybrid projections (100 steps, 8 starts)
of the first N held-out night scenes that have a moon, drawn at 256^2 and area-downsampled to 64^2 as issue 10 did.

The moon is found in the 64^2 scene as the peak of its luminance's difference of Gaussians (sigma 1 minus 3, the
blob that the --recon-blob-gain weights favour); a night counts as having one when that peak stands 0.2 (of 1)
above the sky. Its contrast is the mean luminance of the 3x3 pixels at the peak minus the median of a ring 4-6
pixels out. Prints per model: the projection's moon contrast / the scene's (median and each scene's), how many
scenes reach half the scene's contrast, and the RMSE of the whole projection (0..255).

    .venv/bin/python tools/measure/moon_projection.py MODEL [MODEL ...] [--scenes 8] [--threads 1]
"""

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sky_projection import FIRST_SEED, rmse  # noqa: E402

from demo.data.landscapes import LandscapeConfig, describe_landscape, render_batch  # noqa: E402
from demo.engine.checkpoint import load_model  # noqa: E402
from demo.engine.projection import project  # noqa: E402

MOON_CONTRAST = 0.2


def luminance(image: np.ndarray) -> np.ndarray:
    """[64, 64, 3] uint8 -> [64, 64] float in 0..1."""
    return image.astype(np.float64).mean(axis=2) / 255


def moon_at(scene: np.ndarray) -> tuple[int, int]:
    lum = luminance(scene)
    blob = cv2.GaussianBlur(lum, (0, 0), 1.0) - cv2.GaussianBlur(lum, (0, 0), 3.0)
    y, x = np.unravel_index(int(np.argmax(blob)), blob.shape)
    return int(y), int(x)


def contrast(image: np.ndarray, at: tuple[int, int]) -> float:
    lum = luminance(image)
    y, x = at
    yy, xx = np.mgrid[: lum.shape[0], : lum.shape[1]]
    distance = np.hypot(yy - y, xx - x)
    disc = lum[max(0, y - 1): y + 2, max(0, x - 1): x + 2].mean()
    return float(disc - np.median(lum[(distance >= 4) & (distance <= 6)]))


def nights_with_a_moon(count: int) -> tuple[list[int], list[np.ndarray], list[tuple[int, int]]]:
    """The first ``count`` held-out night seeds with a moon, their 64^2 scenes and where each moon is."""
    seeds, scenes, moons, seed = [], [], [], FIRST_SEED
    while len(seeds) < count:
        if describe_landscape(seed)["sky"] == "night":
            (image,) = render_batch([seed], config=LandscapeConfig(size=256))
            scene = cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
            moon = moon_at(scene)
            if contrast(scene, moon) >= MOON_CONTRAST:
                seeds.append(seed)
                scenes.append(scene)
                moons.append(moon)
        seed += 1
    return seeds, scenes, moons


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", help="model names or files")
    parser.add_argument("--scenes", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    seeds, scenes, moons = nights_with_a_moon(args.scenes)
    report = {"seeds": seeds}
    for name in args.models:
        model = load_model(name)
        ratios, errors = [], []
        for scene, moon in zip(scenes, moons):
            projected = project(model, scene, method="hybrid", steps=100, seed=0).image
            ratios.append(round(contrast(projected, moon) / contrast(scene, moon), 2))
            errors.append(rmse(projected, scene))
        report[name] = {"moon_contrast_median": round(float(np.median(ratios)), 2), "moon_contrast": ratios,
                        "moons_at_half_contrast": sum(ratio >= 0.5 for ratio in ratios),
                        "rmse_median": round(float(np.median(errors)), 1)}
        print(name, report[name], flush=True)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
