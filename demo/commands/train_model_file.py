"""``python -m demo train measure|calibrate`` and the parts of ``train`` that read a data folder or finish a
model file's card: what works on a model file rather than on a run."""

from __future__ import annotations

import json
from pathlib import Path


def card_for_data_domain(saved: Path, data: str) -> None:
    """A model trained on avatars gets its card's domain parts (dataset, licence, attribution, figures on
    unseen avatars) from demo.train.shipping.avatars; export, calibrate and encoder measure unseen figures on landscapes."""
    from demo.train.shipping.export import read_data_meta

    if read_data_meta(data).get("kind") == "avatars":
        from demo.train.shipping.avatars import finish_card

        finish_card(saved, data=data)
        print(f"rewrote the card of {saved} for the avatars domain (unseen figures on held-out avatars)")


def measure(args) -> int:
    """Held-out FD8 of a model (the card's protocol), without training."""
    from demo.engine.checkpoint import load_model
    from demo.train.shipping.export import heldout_fd8

    loaded = load_model(args.model)
    figures = heldout_fd8(loaded.G, prior=loaded.card.prior, count=args.measure_count)
    print(json.dumps({"model": str(loaded.path), **figures}, indent=2))
    return 0


def calibrate(args) -> int:
    """Colour-calibrate a model file's G against its training images and rewrite the file with new figures."""
    import torch

    from demo.engine.checkpoint import load_model
    from demo.errors import UserError
    from demo.train.shipping.recalibrate import recalibrate_model_file

    loaded = load_model(args.model)
    if loaded.path is None or loaded.path.suffix != ".safetensors" or loaded.card.stand_in:
        raise UserError(f"{args.model}: calibrate rewrites a trained model's .safetensors file; this is not one")
    images = training_images(args)
    if images.shape[-1] != loaded.card.resolution:
        raise UserError(f"{args.data}: images are {images.shape[-1]}x{images.shape[-1]}, the model draws "
                        f"{loaded.card.resolution}x{loaded.card.resolution}")
    calibration = calibration_of(args)
    if calibration is None:
        raise UserError("calibrate: --calibration-steps must be at least 1")
    saved, sheet = recalibrate_model_file(loaded, images, data=str(args.data), calibration=calibration,
                                          measure_count=args.measure_count, progress=not args.no_progress,
                                          generator=torch.Generator().manual_seed(args.seed))
    card_for_data_domain(saved, args.data)
    final = json.loads(saved.with_suffix(".json").read_text())["metrics"]
    shown = ("fd8_samples_vs_data", "fd8_samples_vs_heldout_over_seeds", "diversity_ratio")
    print(json.dumps({"model": str(saved), **{k: final[k] for k in shown if k in final}}, indent=2))
    print(f"wrote {saved}, {saved.with_suffix('.json').name}, {sheet.name} and the start previews")
    return 0


def calibration_of(args):
    """The colour calibration that --calibration-steps asks for (None: skip it)."""
    from demo.train.shipping.calibrate import ColourCalibration

    return ColourCalibration(steps=args.calibration_steps) if args.calibration_steps > 0 else None


def training_images(args):
    """The --data folder's images, uint8 [N, 3, R, R], at the size they were drawn (a contradicting --resolution is refused)."""
    import numpy as np

    from demo.errors import UserError
    from demo.train.common import find_data_file, load_images

    probe = find_data_file(args.data)
    size = np.load(probe, mmap_mode="r").shape[1]
    if args.resolution is not None and args.resolution != size:
        raise UserError(f"{probe}: images are {size}x{size}, but --resolution {args.resolution} was asked for")
    return load_images(probe, resolution=size)
