"""Colour-calibrate a model file that is already written, and rewrite it with its figures measured again."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from demo.engine.checkpoint import LoadedModel
from demo.train.shipping.calibrate import ColourCalibration, calibrate_colour_mean
from demo.train.shipping.export import measure_model, write_sample_sheet
from demo.train.shipping.model_file import load_raw_generator, save_trained_model


def recalibrate_model_file(loaded: LoadedModel, images: torch.Tensor, *, data: str, calibration: ColourCalibration,
                           measure_count: int, generator: torch.Generator, progress: bool = True) -> tuple[Path, Path]:
    """Fit ``loaded``'s G colour mean to ``images`` [N, 3, R, R] (uint8), measure the card's figures again and
    rewrite the file, its card and sample sheet. Returns (model file, sample sheet)."""
    card = loaded.card
    record = calibrate_colour_mean(loaded.G, images, prior=card.prior, generator=generator, config=calibration,
                                   progress=progress)
    record["data"] = data
    print(f"mean colour gap {record['mean_gap_before']} -> {record['mean_gap_after']}; measuring the card's figures")
    metrics = measure_model(loaded.G, images, prior=card.prior, count=measure_count, E=loaded.E)
    raw_G = load_raw_generator(loaded.path, card.generator_config())
    card = dataclasses.replace(card, training={**card.training, "colour_calibration": record},
                               metrics={**card.metrics, **metrics})
    saved = save_trained_model(loaded.path, card, G=loaded.G, D=loaded.D, E=loaded.E, raw_G=raw_G)
    return saved, write_sample_sheet(saved, loaded.G, prior=card.prior)
