"""Display images: how close G's samples shown at display size come to true scenes, level by level.

For each kind (landscapes; avatars where Node and its renderer are installed), random samples of the
model are upsampled x4 by the shipped display network, under the model card's display settings as the
app shows them, and by bicubic; each set is compared with true 256^2 scenes from held-out seeds by the
sliced Wasserstein distance on Laplacian pyramids (demo.metrics.swd), per level (256 / 128 / 64 / 32 / 16).
The floor is two disjoint sets of true scenes. Also: fidelity (the display image area-downsampled to 64^2
against G's image, RMSE 0..255, worst of the first 32), milliseconds per image at one thread (median of 3
timed runs), and the same network shown the true scenes' own 64^2 images (``display_of_true_inputs``),
which tells how much of the distance is G's (settings chosen for G's images may over-sharpen crisp ones).
Writes a side-by-side PNG: G's image (nearest) | bicubic | display, for the first samples, beside true
scenes.

examples:
  python -m demo bench display
  python -m demo bench display --count 64 --kinds landscapes --picture out/display.png
  python -m demo bench display --truth-seed 30000000 --seed 1 --upsampler models/upsample4x.safetensors   # validation seeds
  python -m demo bench display --kinds avatars --truth-seed 30000000 --seed 1 --setting input_smoothing=30
"""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from demo.metrics.swd import mean_over, swd_per_level

MODELS = {"landscapes": "landscape64", "avatars": "avatars64"}
HELDOUT_FIRST = 10_000_000  # truth seeds never trained on; the floor's second set follows the first
FIDELITY_SAMPLES = 32
FINE_LEVELS = (256, 128)


def add_arguments(parser) -> None:
    parser.add_argument("--kinds", default="landscapes,avatars", help="comma-separated (default: landscapes,avatars)")
    parser.add_argument("--count", type=int, default=256, help="images per set (default: 256)")
    parser.add_argument("--upsampler", type=Path, default=None,
                        help="display network file (default: the model's own, as its card's display names it, else "
                             "models/detail4x, else models/upsample4x)")
    parser.add_argument("--truth-seed", type=int, default=HELDOUT_FIRST,
                        help=f"first true scene's seed (default: {HELDOUT_FIRST:,}, held out); choose settings on other "
                             "seeds, e.g. 30000000 (validation) with --seed 1, and report on the default")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE", type=display_setting,
                        help="a display setting over the model card's (input_smoothing, fidelity_limit, residual_gain, "
                             "back_projection_steps); repeat for more")
    parser.add_argument("--picture", type=Path, default=Path("out/bench_display.png"),
                        help="side-by-side PNG (default: out/bench_display.png)")


def display_setting(text: str) -> tuple[str, float]:
    """``NAME=VALUE`` -> (name, value), for --setting."""
    import argparse

    from demo.engine.upsample import INFERENCE_SETTINGS

    name, _, value = text.partition("=")
    if name not in INFERENCE_SETTINGS:
        raise argparse.ArgumentTypeError(f"{text!r}: the setting must be one of {', '.join(INFERENCE_SETTINGS)}")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=NUMBER, e.g. input_smoothing=30") from None
    return name, int(number) if name == "back_projection_steps" else number


def true_scenes(kind: str, seeds: list[int]) -> np.ndarray | None:
    """uint8 [N, 256, 256, 3] true scenes, or None where their renderer is missing (avatars need Node)."""
    if kind == "landscapes":
        from demo.data.landscapes import LandscapeConfig, render_batch

        return render_batch(seeds, config=LandscapeConfig(size=256))
    from demo.data.avatars import TOOL_DIR, AvatarConfig, render_avatars

    if shutil.which("node") is None or not (TOOL_DIR / "node_modules").is_dir():
        return None
    return render_avatars(seeds, config=AvatarConfig(size=256))


def true_scenes_64(kind: str, seeds: list[int]) -> np.ndarray | None:
    """uint8 [N, 64, 64, 3]: the true scenes area-downsampled, as G's training images were; None as above."""
    scenes = true_scenes(kind, seeds)
    if scenes is None:
        return None
    return np.stack([cv2.resize(scene, (64, 64), interpolation=cv2.INTER_AREA) for scene in scenes])


def samples(model_name: str, count: int, *, seed: int) -> np.ndarray:
    """uint8 [N, R, R, 3]: G's images for ``count`` latents drawn from its prior."""
    from demo.engine.checkpoint import load_model

    return samples_of(load_model(model_name), count, seed=seed)


def samples_of(model, count: int, *, seed: int) -> np.ndarray:
    """uint8 [N, R, R, 3]: a loaded model's G images for ``count`` latents drawn from its prior."""
    import torch

    from demo.engine.latent import sample_prior
    from demo.engine.projection import to_uint8

    z = sample_prior(model.card.prior, count, model.card.nz, torch.Generator().manual_seed(seed))  # [N, nz]
    with torch.inference_mode():
        return np.concatenate([to_uint8(model.G(z[i:i + 64])) for i in range(0, count, 64)])


def bicubic(images: np.ndarray, scale: int = 4) -> np.ndarray:
    side = images.shape[1] * scale
    return np.stack([cv2.resize(image, (side, side), interpolation=cv2.INTER_CUBIC) for image in images])


def fidelity(display: np.ndarray, images: np.ndarray) -> float:
    """Worst RMSE (0..255) of display images area-downsampled to G's size, against G's images."""
    side = images.shape[1]
    down = np.stack([cv2.resize(d, (side, side), interpolation=cv2.INTER_AREA) for d in display]).astype(np.float64)
    return float(np.sqrt(((down - images) ** 2).mean(axis=(1, 2, 3))).max())


def ms_per_image(upsample, images: np.ndarray, *, runs: int = 3) -> float:
    """Median over ``runs`` of the mean milliseconds per image, one image per call (as the app's follow-up)."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        for image in images:
            upsample(image[None])
        timings.append(1000 * (time.perf_counter() - started) / len(images))
    return round(statistics.median(timings), 2)


def side_by_side(images: np.ndarray, bicubic_images: np.ndarray, display: np.ndarray, truth: np.ndarray,
                 *, rows: int = 4) -> np.ndarray:
    """Rows of G's image (nearest x4) | bicubic | display | a true scene (unpaired), 4 px apart."""
    side = display.shape[1]
    nearest = lambda image: cv2.resize(image, (side, side), interpolation=cv2.INTER_NEAREST)  # noqa: E731
    gap = np.full((side, 4, 3), 255, np.uint8)
    lines = [np.concatenate([nearest(images[i]), gap, bicubic_images[i], gap, display[i], gap, truth[i]], axis=1)
             for i in range(min(rows, len(images)))]
    spacer = np.full((4, lines[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([part for line in lines for part in (line, spacer)][:-1], axis=0)


def measure_kind(kind: str, *, count: int, seed: int, upsampler_path: Path | None,
                 truth_seed: int = HELDOUT_FIRST, settings: dict | None = None) -> tuple[dict, np.ndarray | None]:
    """The figures of one kind, and its side-by-side picture (None when the kind was skipped). The display
    network runs under the model card's display settings, then ``settings`` over them, as the app shows it."""
    import torch

    from demo.engine.checkpoint import load_model
    from demo.engine.upsample import display_choice, load_display, read_upsampler, with_settings

    truth = true_scenes(kind, list(range(truth_seed, truth_seed + count)))
    if truth is None:
        return {"skipped": "the avatar renderer is not installed (needs Node and `npm ci` in tools/avatars)"}, None
    other = true_scenes(kind, list(range(truth_seed + count, truth_seed + 2 * count)))
    model = load_model(MODELS[kind])
    images = samples_of(model, count, seed=seed)
    torch.set_num_threads(1)
    settings = {**model.card.display, **(settings or {})}
    if upsampler_path is not None:  # This file, in place of the G's own display network.
        settings = display_choice(settings)[1]
        upsampler = with_settings(read_upsampler(upsampler_path), settings)
    else:
        upsampler = load_display(settings=settings)
    if upsampler is None:
        return {"skipped": "no display network is installed (models/detail4x, models/upsample4x)"}, None

    def upsample(batch: np.ndarray) -> np.ndarray:
        return np.concatenate([upsampler.upsample(batch[i:i + 32]) for i in range(0, len(batch), 32)])

    display = upsample(images)
    bicubic_images = bicubic(images)
    floor = swd_per_level(truth, other, seed=seed)
    # The same network shown the true scenes' own 64^2 images: how much of the distance is G's.
    true_inputs = upsample(np.stack([cv2.resize(scene, images.shape[1:3], interpolation=cv2.INTER_AREA) for scene in other]))
    figures = {"display": swd_per_level(display, truth, seed=seed), "bicubic": swd_per_level(bicubic_images, truth, seed=seed),
               "display_of_true_inputs": swd_per_level(true_inputs, truth, seed=seed)}
    fine_floor = mean_over(floor, FINE_LEVELS)
    report = {
        "count": count, "model": MODELS[kind], "upsampler": str(upsampler_path or upsampler.card.get("name")),
        "settings": settings,
        "swd_floor": floor, **{f"swd_{name}": value for name, value in figures.items()},
        **{f"fine_{name}_over_floor": round(mean_over(value, FINE_LEVELS) / fine_floor, 2)
           for name, value in figures.items()},
        "fidelity_worst_rmse": round(fidelity(display[:FIDELITY_SAMPLES], images[:FIDELITY_SAMPLES]), 2),
        "ms_per_image": ms_per_image(upsampler.upsample, images[:16]),
    }
    return report, side_by_side(images, bicubic_images, display, truth)


def run(args) -> dict:
    from demo.data.grid import save_png

    kinds = [kind.strip() for kind in args.kinds.split(",") if kind.strip()]
    unknown = sorted(set(kinds) - set(MODELS))
    if unknown:
        from demo.errors import UserError

        raise UserError(f"--kinds: unknown {', '.join(unknown)} (choose from {', '.join(MODELS)})")
    report: dict = {"suite": "display", "levels_fine": list(FINE_LEVELS), "kinds": {}}
    pictures = []
    for kind in kinds:
        report["kinds"][kind], picture = measure_kind(kind, count=args.count, seed=args.seed, upsampler_path=args.upsampler,
                                                      truth_seed=args.truth_seed, settings=dict(args.setting))
        if picture is not None:
            pictures.append(picture)
    if pictures and args.picture is not None:
        width = max(p.shape[1] for p in pictures)
        padded = [np.pad(p, ((0, 8), (0, width - p.shape[1]), (0, 0)), constant_values=255) for p in pictures]
        report["picture"] = str(save_png(args.picture, np.concatenate(padded)))
    return report
