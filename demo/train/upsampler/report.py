"""Measure, export and picture the x4 upsampler: ``evaluate``, ``export``, ``bench`` and ``figure`` actions
of ``python -m demo.train.upsampler`` (training itself is in demo/train/upsampler/train.py).

Measures, on held-out 256^2 scenes (seeds the upsampler never trained on), for four kinds of 64^2
input: the clean downsample, its GAN round trip G(E(x)), its projection with one start per scene (every
scene of the set, as the training inputs are made) and its hybrid projection (8 scenes, 100 steps, 8
starts, as in the projection table): sharpness (mean gradient magnitude of the display image / that of the true 256^2 scene,
mean over the set's pixels), PSNR against the true scene (mean over images) for ours and bicubic, and
fidelity (RMSE, 0..255, of the display image area-downsampled to 64^2 against the input).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from demo.data.grid import save_png
from demo.engine.upsample import (DEFAULT_UPSAMPLER, UpsampleNet, Upsampler, read_upsampler, save_upsampler,
                                  upsample_or_resize)
from demo.safe_files import replacing
from demo.train.upsampler.train import trained_net

PROJECTED = 8  # held-out scenes per set that are projected with hybrid (the count)
PROJECTION_STEPS = 100


def add_parsers(sub) -> None:
    for name, text in (("evaluate", "measure a run's latest checkpoint on held-out scenes"),
                       ("export", "evaluate, then write models/upsample4x.* with its card and docs/bench/upsample_compare.png")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--out", required=True, help="run folder, e.g. runs/upsample4x (with --weights: only its cache/)")
        p.add_argument("--weights", default=None,
                       help="measure this upsampler file (e.g. models/upsample4x.safetensors) instead of the run's "
                            "checkpoint: how a new machine, which has no runs/, re-measures the shipped weights after "
                            "a GAN changes; export then rewrites that file's figures and keeps the rest of its card")
        p.add_argument("--heldout", nargs="+", required=True, help="held-out 256^2 data folders (other seeds)")
        p.add_argument("--model-out", default=str(DEFAULT_UPSAMPLER), help="where export writes the weights")
        p.add_argument("--figure", default="docs/bench/upsample_compare.png", help="where export writes the picture")
        p.add_argument("--gains", type=float, nargs="+", default=None,
                       help="residual gains to measure (export ships the first); pick them on validation seeds, not "
                            "held-out (default: 1, or the --weights file's own)")
        p.add_argument("--skip-projection", action="store_true", help="measure clean and round-trip inputs only (fast)")
    p = sub.add_parser("bench", help="ms per image at the current thread count: median of 3 runs of 100 images")
    p.add_argument("--model", default=str(DEFAULT_UPSAMPLER), help="upsampler file (default: models/upsample4x)")
    p.add_argument("--images", type=int, default=100)
    p.add_argument("--runs", type=int, default=3)


def gradient_energy(images: np.ndarray, *, power: int = 1) -> float:
    """Mean over pixels of |d/dx|^power + |d/dy|^power (forward differences) of uint8 [N, H, W, 3] images.

    power 1 (mean gradient magnitude) is the sharpness measure quoted; power 2 weighs the finest,
    strongest edges (stars, tree outlines) far more and is reported beside it.
    """
    x = images.astype(np.float64)
    return float((np.abs(np.diff(x, axis=2)) ** power).mean() + (np.abs(np.diff(x, axis=1)) ** power).mean())


def psnr(images: np.ndarray, truth: np.ndarray) -> float:
    """Mean over images of PSNR (dB, peak 255)."""
    mse = ((images.astype(np.float64) - truth) ** 2).mean(axis=(1, 2, 3))
    return float(np.mean(10 * np.log10(255.0**2 / np.maximum(mse, 1e-10))))


def fidelity_rmse(display: np.ndarray, reference: np.ndarray) -> float:
    """RMSE (0..255) of display images area-downsampled to the reference's size."""
    from demo.train.upsampler.data import area_down

    return float(np.sqrt(((area_down(display).astype(np.float64) - reference) ** 2).mean()))


def heldout_inputs(path: Path, cache: Path, *, projections: bool = True) -> tuple[str, np.ndarray, dict[str, np.ndarray]]:
    """(kind, truth [N, 256, 256, 3], {input kind: uint8 [n, 64, 64, 3]}); projections cached in ``cache``
    (per GAN file)."""
    from demo.engine.checkpoint import load_model
    from demo.engine.projection import project
    from demo.train.upsampler.data import GAN_FOR_KIND, area_down, gan_projection, gan_round_trip, gan_tag, read_dataset

    kind, truth = read_dataset(path)
    low = area_down(truth)
    inputs = {"clean": low, "gan_round_trip": gan_round_trip(low, model_name=GAN_FOR_KIND[kind])}
    if not projections:
        return kind, truth, inputs
    tag = gan_tag(kind)
    stored = cache / f"heldout_projection_{path.resolve().name}_{len(low)}_{tag}.npy"
    inputs["gan_projection"] = cached_array(stored, lambda: gan_projection(low, model_name=GAN_FOR_KIND[kind]))

    def hybrid_projections() -> np.ndarray:
        model = load_model(GAN_FOR_KIND[kind])
        return np.stack([project(model, image, method="hybrid", steps=PROJECTION_STEPS, seed=0).image
                         for image in low[:PROJECTED]])

    stored = cache / f"heldout_hybrid_{path.resolve().name}_{PROJECTED}_{tag}.npy"
    inputs["hybrid_projection"] = cached_array(stored, hybrid_projections)
    return kind, truth, inputs


def cached_array(stored: Path, compute: Callable[[], np.ndarray]) -> np.ndarray:
    """The array in ``stored``, computed and written first when it is not there. The file is put in place
    whole (``demo.safe_files.replacing``), so a run killed while writing leaves no truncated cache behind."""
    if not stored.exists():
        array = compute()
        stored.parent.mkdir(parents=True, exist_ok=True)
        with replacing(stored, suffix=".npy") as temp:
            np.save(temp, array)
    return np.load(stored)


def evaluate_sets(upsampler: Upsampler, heldout: list[Path], cache: Path, *, projections: bool = True) -> dict:
    """Figures per held-out set and input kind, for ours and bicubic."""
    results = {}
    for path in heldout:
        kind, truth, inputs = heldout_inputs(path, cache, projections=projections)
        for name, low in inputs.items():
            target = truth[: len(low)]
            ours, bicubic = upsampler.upsample(low), upsample_or_resize(None, low)
            energy, energy_sq = gradient_energy(target), gradient_energy(target, power=2)
            results[f"{kind}/{name}"] = {
                "images": len(low),
                "sharpness_ours": round(gradient_energy(ours) / energy, 3),
                "sharpness_bicubic": round(gradient_energy(bicubic) / energy, 3),
                "sharpness_squared_ours": round(gradient_energy(ours, power=2) / energy_sq, 3),
                "sharpness_squared_bicubic": round(gradient_energy(bicubic, power=2) / energy_sq, 3),
                "psnr_ours": round(psnr(ours, target), 2),
                "psnr_bicubic": round(psnr(bicubic, target), 2),
                "fidelity_rmse_ours": round(fidelity_rmse(ours, low), 3),
                "fidelity_rmse_bicubic": round(fidelity_rmse(bicubic, low), 3),
            }
    return results


def time_upsampler(upsampler: Upsampler, *, images: int, runs: int) -> dict:
    """Wall and CPU ms per image, one image per call (as the app calls it), median and range over runs."""
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, (images, 64, 64, 3), dtype=np.uint8)
    upsampler.upsample(batch[:1])
    wall, cpu = [], []
    for _ in range(runs):
        start_wall, start_cpu = time.perf_counter(), time.thread_time()
        for image in batch:
            upsampler.upsample(image[None])
        wall.append((time.perf_counter() - start_wall) * 1000 / images)
        cpu.append((time.thread_time() - start_cpu) * 1000 / images)
    summary = lambda xs: {"median": round(statistics.median(xs), 2), "min": round(min(xs), 2), "max": round(max(xs), 2)}
    return {"threads": torch.get_num_threads(), "images_per_run": images, "runs": runs,
            "wall_ms_per_image": summary(wall), "cpu_ms_per_image": summary(cpu)}


def compare_figure(upsampler: Upsampler, heldout: list[Path], cache: Path, path: Path, *, per_set: int = 2) -> Path:
    """Rows of held-out scenes' hybrid projections under a label strip:
    G's image (nearest x4) | bicubic | upsample4x | the true 256^2 scene."""
    import cv2

    labels = ("G's 64x64 image (nearest)", "bicubic x4", "upsample4x", "true 256x256 scene")
    gap, rows = 4, []
    for set_path in heldout:
        _, truth, inputs = heldout_inputs(set_path, cache)
        low = inputs["hybrid_projection"][:per_set]
        columns = (low.repeat(4, axis=1).repeat(4, axis=2), upsample_or_resize(None, low), upsampler.upsample(low),
                   truth[: len(low)])
        rows += [np.concatenate([np.pad(col[i], ((gap, 0), (gap, 0), (0, 0)), constant_values=255) for col in columns], axis=1)
                 for i in range(len(low))]
    header = np.full((28, rows[0].shape[1], 3), 255, np.uint8)
    for k, label in enumerate(labels):
        cv2.putText(header, label, (gap + k * (256 + gap) + 6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return save_png(path, np.concatenate([header, *rows], axis=0))


def run(args) -> int:
    if args.action == "bench":
        upsampler = read_upsampler(args.model)
        print(json.dumps(time_upsampler(upsampler, images=args.images, runs=args.runs), indent=2))
        return 0
    run_dir = Path(args.out)
    run_dir.mkdir(parents=True, exist_ok=True)
    net, info, shipped_card = _weights_to_measure(args, run_dir)
    gains = args.gains or [info["residual_gain"]]
    heldout = [Path(p) for p in args.heldout]
    reports = []
    for gain in gains:
        upsampler = Upsampler(net=net.reconfigured(residual_gain=gain), card={}, device=torch.device("cpu"))
        metrics = evaluate_sets(upsampler, heldout, run_dir / "cache", projections=not args.skip_projection)
        reports.append({"step": info["step"], "residual_gain": gain, "heldout": [str(p) for p in heldout],
                        "metrics": metrics})
        print(json.dumps(reports[-1], indent=2), flush=True)
    (run_dir / f"evaluate_{info['step']}.json").write_text(json.dumps(reports, indent=2) + "\n")
    if args.action == "export":
        shipped = net.reconfigured(residual_gain=gains[0])
        upsampler = Upsampler(net=shipped, card={}, device=torch.device("cpu"))
        report = {**reports[0], "speed_1_thread": time_upsampler(upsampler, images=100, runs=3)}
        card = (model_card(run_dir, info, report) if shipped_card is None else
                {**shipped_card, "metrics": report["metrics"], "speed_1_thread": report["speed_1_thread"]})
        written = save_upsampler(args.model_out, shipped, card)
        figure = compare_figure(upsampler, heldout, run_dir / "cache", Path(args.figure))
        print(f"wrote {written}, {written.with_suffix('.json')}, {figure}")
    return 0


def _weights_to_measure(args, run_dir: Path) -> tuple[UpsampleNet, dict, dict | None]:
    """(network at residual gain 1, {step, residual_gain (the default to measure), ...}, the file's card or
    None): the run's latest checkpoint, or with --weights an upsampler file."""
    if args.weights is None:
        net, info = trained_net(run_dir)
        return net, {**info, "residual_gain": 1.0}, None
    loaded = read_upsampler(args.weights)
    card = {k: v for k, v in loaded.card.items() if k != "config"}  # save_upsampler writes the config
    info = {"step": card.get("training", {}).get("steps", 0),
            "residual_gain": loaded.net.config.residual_gain}  # the default gain: the file as it is
    return loaded.net.reconfigured(residual_gain=1.0), info, card


def training_seconds(rows: list[dict]) -> float:
    """Wall seconds of a resumed run: each process logs seconds since it started, so sum each one's last."""
    ends = [row["seconds"] for row, after in zip(rows, rows[1:] + [None]) if after is None or after["seconds"] < row["seconds"]]
    return round(sum(ends), 1)


def model_card(run_dir: Path, info: dict, report: dict) -> dict:
    """The card: what it is, the data and its licence, training and the measured figures."""
    rows = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    inits = [row["init"] for row in rows if "init" in row]  # the upsampler file a fine-tuning run started from
    avatars_card = json.loads((Path(DEFAULT_UPSAMPLER).parent / "avatars64.json").read_text())
    share = rows[-1].get("degradation", {}).get("projection_probability", 0) if rows else 0
    projected = (f", a share {share} of the time, G's own projection of the scene (encoder guess + 100 Adam steps on "
                 "the projection loss), else" if share else "")
    return {
        "name": "upsample4x",
        "kind": "upsampler",
        "scale": 4,
        "what": "x4 display upsampler for 64^2 G images: bicubic + residual CNN (pixel shuffle), then back-projection "
                "so that its 64^2 area-downsample equals the input but for the 2-pixel checkerboard part (G's grid), "
                "which the network may remove (fidelity RMSE measured below)",
        "dataset": "256^2 renders from this project: procedural landscapes (demo/data/landscapes.py) and DiceBear "
                   f"avatars (demo/data/avatars.py); inputs are{projected} their 64^2 area-downsamples degraded towards "
                   "G's output (blend with G(E(x)) of landscape64/avatars64, blur, period-2 grid, noise, uint8 rounding). "
                   f"Data files: {rows[-1]['data'] if rows else []}",
        "licence": "CC-BY-4.0 (the avatar data is CC-BY-4.0; landscape data is CC0-1.0). " + avatars_card["licence"],
        "training": {"steps": info["step"], "seconds": training_seconds(rows),
                     "final_loss": rows[-1]["loss"] if rows else None, "images": rows[-1]["images"] if rows else None,
                     "threads": 1, "command": "python -m demo.train.upsampler train ... (see docs/upsampler.md)",
                     **({"init": inits[0]} if inits else {})},
        "metrics": report["metrics"],
        "speed_1_thread": report["speed_1_thread"],
        "metric_notes": "held-out scenes: landscapes from seeds 10,000,000+ and avatars from seeds 10,000,000+; "
                        "sharpness = mean gradient magnitude (|dx| + |dy|, forward differences) of the 256^2 display image / "
                        "that of the true 256^2 scene, over all pixels of the set (sharpness_squared: the same with squared "
                        "differences); PSNR in dB against the true scene, mean over images; "
                        "fidelity = RMSE (0..255) of the display image area-downsampled to 64^2 against the input; "
                        "speed on a 2-core CPU shared with other jobs, one torch thread, one image per call.",
    }
