"""Colour calibration of a trained generator: match the mean low-resolution colour image of its samples to the data's.

A GAN can end training with a small systematic colour cast that the discriminator barely feels: the
shipped landscape64 drew its samples about 4/255 darker and less blue than the scenes, which made up a
third of its held-out FD8. This step fits the affine parameters of G's BatchNorm layers (scale and shift
per channel, under 1,000 numbers; the convolutions stay as trained) so that the mean of its samples'
8x8 colour images equals that of the *training* images. It is the first moment only: the spread and
layout of the samples are left to the GAN. Held-out scenes are never seen.

    record = calibrate_colour_mean(G, images, prior="uniform", generator=torch.Generator().manual_seed(0))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from tqdm import tqdm

from demo.engine.networks import Generator
from demo.train.common import sample_prior


@dataclass(frozen=True, kw_only=True)
class ColourCalibration:
    steps: int = 300
    batch: int = 512
    lr: float = 5e-4  # Adam, decayed linearly to 0 so the last steps average out the batches' noise
    size: int = 8  # side of the colour images whose mean is matched (FD8's)
    measure_count: int = 4096  # samples for the before / after figures


def mean_colour_image(images: torch.Tensor, *, size: int) -> torch.Tensor:
    """Mean of size x size area-downsampled colour images in 0..1: [N, 3, H, W] (uint8, or float in [-1, 1]) -> [3*size*size]."""
    if images.dtype == torch.uint8:
        parts = [F.adaptive_avg_pool2d(part.float() / 255.0, size) for part in images.split(2048)]
        return torch.cat(parts).flatten(1).mean(0)
    return F.adaptive_avg_pool2d((images + 1) / 2, size).flatten(1).mean(0)


@torch.no_grad()
def _mean_gap(G: Generator, target: torch.Tensor, *, prior: str, config: ColourCalibration) -> float:
    """Squared distance between the mean colour image of ``measure_count`` fixed samples and ``target``."""
    z = sample_prior(config.measure_count, G.config.nz, prior=prior, generator=torch.Generator().manual_seed(99))
    device = next(G.parameters()).device
    means = [mean_colour_image(G(part.to(device)), size=config.size) * len(part) for part in z.split(512)]
    return float((torch.stack(means).sum(0) / len(z) - target).pow(2).sum())


def calibrate_colour_mean(G: Generator, images: torch.Tensor, *, prior: str, generator: torch.Generator,
                          config: ColourCalibration = ColourCalibration(), progress: bool = True) -> dict[str, Any]:
    """Fit G's BatchNorm affine parameters (in place, G in eval mode) to the mean colour image of ``images``.

    images: the training set, uint8 [N, 3, R, R]. Returns the card's record: the squared gap between the
    mean colour images of G's samples and the data before and after (the mean term of FD8 against the
    training data), and the settings.
    """
    G.eval()
    device = next(G.parameters()).device
    target = mean_colour_image(images, size=config.size).to(device)  # [3*size*size]
    before = _mean_gap(G, target, prior=prior, config=config)
    norms = [m for m in G.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    params = [p for norm in norms for p in (norm.weight, norm.bias)]
    trained = {p: p.requires_grad for p in G.parameters()}
    for p in G.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    optimizer = torch.optim.Adam(params, lr=config.lr)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / config.steps)
    try:
        for _ in tqdm(range(config.steps), desc="colour calibration", unit="step", disable=not progress):
            z = sample_prior(config.batch, G.config.nz, prior=prior, generator=generator).to(device)
            gap = (mean_colour_image(G(z), size=config.size) - target).pow(2).sum()
            optimizer.zero_grad(set_to_none=True)
            gap.backward()
            optimizer.step()
            schedule.step()
    finally:
        for p, flag in trained.items():
            p.requires_grad_(flag)
    after = _mean_gap(G, target, prior=prior, config=config)
    return {
        "what": "BatchNorm scales and shifts of the sampled G fitted so that the mean 8x8 colour image of its samples "
                "equals the training images' (demo/train/shipping/calibrate.py); convolutions unchanged",
        "parameters": sum(p.numel() for p in params),
        "mean_gap_before": round(before, 4),
        "mean_gap_after": round(after, 4),
        "mean_gap_notes": f"squared distance (0..1 units, summed over 3x{config.size}x{config.size}) between the mean "
                          f"colour image of {config.measure_count} samples and that of {len(images)} training images: "
                          "the mean term of FD8 against the training data",
        **asdict(config),
    }
