"""Sky projections: projections (hybrid by default) of held-out night / dusk / day scenes, per sky kind, and the moons.

The scenes (seeds from 10,005,000, never trained on) are drawn at 256^2 and area-downsampled to 64^2.
Per kind: pixel RMSE of the projection against the scene, beside the RMSE of a flat image of the scene's
mean colour (a projection no better than that is mush), the same two at 16^2 (4x4 area means: the layout of
sky, ridges, moon and water, single-pixel stars averaged away), and detail kept (gradient energy of the
projection / of the scene). Moons: the first held-out nights whose moon stands 0.2 (of 1) above the sky, and
the projection's moon contrast / the scene's. ``--picture`` writes scene | projection rows of nights and dusks.

examples:
  python -m demo bench skies --model landscape64
  python -m demo bench skies --model landscape64 --per-kind 2 --moons 2 --picture out/skies.png
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FIRST_SEED = 10_005_000  # held out: training data uses seeds below 10,000,000
SKY_KINDS = ("night", "dusk", "day")
MOON_CONTRAST = 0.2  # a night has a moon when its blob stands this far above the sky (luminance 0..1)
PICTURE_SCALE, PICTURE_GAP = 3, 6


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="landscape64", help="model name or file (default: landscape64)")
    parser.add_argument("--per-kind", type=int, default=6, help="held-out scenes per sky kind (default: 6)")
    parser.add_argument("--moons", type=int, default=8, help="held-out nights with a moon (default: 8; 0 skips)")
    parser.add_argument("--method", choices=("hybrid", "opt", "encoder"), default="hybrid",
                        help="projection method (default: hybrid, as the app's photo projection)")
    parser.add_argument("--steps", type=int, default=100, help="projection steps (default: 100)")
    parser.add_argument("--picture", type=Path, default=None, help="write scene | projection rows here (PNG)")


def seeds_by_sky(per_kind: int, kinds: tuple[str, ...] = SKY_KINDS) -> dict[str, list[int]]:
    """The first ``per_kind`` held-out seeds of each sky kind."""
    from demo.data.landscapes import describe_landscape

    picked: dict[str, list[int]] = {kind: [] for kind in kinds}
    seed = FIRST_SEED
    while any(len(seeds) < per_kind for seeds in picked.values()):
        kind = describe_landscape(seed)["sky"]
        if kind in picked and len(picked[kind]) < per_kind:
            picked[kind].append(seed)
        seed += 1
    return picked


def scene_64(seeds: list[int]) -> list[np.ndarray]:
    """[64, 64, 3] uint8 landscapes: drawn at 256^2, area-downsampled (as ``bench edits`` draws its scenes)."""
    from demo.bench.display import true_scenes_64

    return list(true_scenes_64("landscapes", seeds))


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(((a.astype(np.float64) - b) ** 2).mean()))


def energy(image: np.ndarray) -> float:
    x = image.astype(np.float64)
    return float(np.abs(np.diff(x, axis=0)).mean() + np.abs(np.diff(x, axis=1)).mean())


def layout(image: np.ndarray) -> np.ndarray:
    """[64, 64, 3] -> [16, 16, 3] float: 4x4 area means."""
    return image.astype(np.float64).reshape(16, 4, 16, 4, 3).mean((1, 3))


def luminance(image: np.ndarray) -> np.ndarray:
    """[H, W, 3] uint8 -> [H, W] float in 0..1."""
    return image.astype(np.float64).mean(axis=2) / 255


def moon_at(scene: np.ndarray) -> tuple[int, int]:
    """Where the moon is: the peak of the luminance's difference of Gaussians (sigma 1 minus 3)."""
    lum = luminance(scene)
    blob = cv2.GaussianBlur(lum, (0, 0), 1.0) - cv2.GaussianBlur(lum, (0, 0), 3.0)
    y, x = np.unravel_index(int(np.argmax(blob)), blob.shape)
    return int(y), int(x)


def contrast(image: np.ndarray, at: tuple[int, int]) -> float:
    """Mean luminance of the 3x3 pixels at ``at`` minus the median of a ring 4-6 pixels out."""
    lum = luminance(image)
    y, x = at
    yy, xx = np.mgrid[: lum.shape[0], : lum.shape[1]]
    distance = np.hypot(yy - y, xx - x)
    disc = lum[max(0, y - 1): y + 2, max(0, x - 1): x + 2].mean()
    return float(disc - np.median(lum[(distance >= 4) & (distance <= 6)]))


def nights_with_a_moon(count: int) -> list[tuple[int, np.ndarray, tuple[int, int]]]:
    """(seed, 64^2 scene, moon position) of the first ``count`` held-out nights with a moon."""
    from demo.data.landscapes import describe_landscape

    found, seed = [], FIRST_SEED
    while len(found) < count:
        if describe_landscape(seed)["sky"] == "night":
            (scene,) = scene_64([seed])
            moon = moon_at(scene)
            if contrast(scene, moon) >= MOON_CONTRAST:
                found.append((seed, scene, moon))
        seed += 1
    return found


def sky_figures(scenes: list[np.ndarray], projections: list[np.ndarray]) -> dict:
    errors = [rmse(p, s) for p, s in zip(projections, scenes)]
    flat = [rmse(s, s.reshape(-1, 3).mean(0)) for s in scenes]
    errors16 = [rmse(layout(p), layout(s)) for p, s in zip(projections, scenes)]
    flat16 = [rmse(layout(s), s.reshape(-1, 3).mean(0)) for s in scenes]
    detail = [energy(p) / max(energy(s), 1e-6) for p, s in zip(projections, scenes)]
    return {"rmse_median": round(float(np.median(errors)), 1), "rmse_max": round(max(errors), 1),
            "flat_colour_rmse_median": round(float(np.median(flat)), 1),
            "rmse16_median": round(float(np.median(errors16)), 1), "rmse16_max": round(max(errors16), 1),
            "flat_colour_rmse16_median": round(float(np.median(flat16)), 1),
            "detail_median": round(float(np.median(detail)), 2)}


def save_picture(path: Path, scenes: list[np.ndarray], projections: list[np.ndarray]) -> Path:
    from demo.data.grid import save_png

    def tile(image: np.ndarray) -> np.ndarray:
        big = image.repeat(PICTURE_SCALE, 0).repeat(PICTURE_SCALE, 1)
        return np.pad(big, ((PICTURE_GAP, PICTURE_GAP), (PICTURE_GAP, PICTURE_GAP), (0, 0)), constant_values=255)

    rows = [np.concatenate([tile(s), tile(p)], axis=1) for s, p in zip(scenes, projections)]
    return save_png(path, np.concatenate(rows, axis=0))


def run(args) -> dict:
    from demo.engine.checkpoint import load_model
    from demo.engine.projection import project

    model = load_model(args.model)
    projected = lambda scene: project(model, scene, method=args.method, steps=args.steps, seed=0).image  # noqa: E731
    report: dict = {"suite": "skies", "model": args.model, "method": args.method, "steps": args.steps, "skies": {}}
    pictured: list[tuple[np.ndarray, np.ndarray]] = []
    for kind, seeds in seeds_by_sky(args.per_kind).items():
        scenes = scene_64(seeds)
        projections = [projected(scene) for scene in scenes]
        report["skies"][kind] = {**sky_figures(scenes, projections), "seeds": seeds}
        if kind in ("night", "dusk"):
            pictured += list(zip(scenes, projections))
    if args.moons > 0:
        nights = nights_with_a_moon(args.moons)
        ratios = [round(contrast(projected(scene), moon) / contrast(scene, moon), 2) for _, scene, moon in nights]
        report["moons"] = {"seeds": [seed for seed, _, _ in nights], "contrast_ratio": ratios,
                           "contrast_ratio_median": round(float(np.median(ratios)), 2),
                           "at_half_contrast": sum(ratio >= 0.5 for ratio in ratios)}
    if args.picture is not None:
        report["picture"] = str(save_picture(args.picture, *map(list, zip(*pictured))))
    return report
