"""Building blocks of the GAN recipe: DCGAN init, DiffAugment translation, BatchNorm re-estimation, the
reconstruction loss and the weights that draw its batch."""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from demo.data.landscapes import DARK_SCENE_MEAN
from demo.engine.networks import Generator, tone_curve
from demo.engine.filters import bright_blob_weights
from demo.train.common import sample_prior


def dcgan_init(net: nn.Module) -> None:
    """Radford et al.'s init: conv weights N(0, 0.02), BatchNorm gains N(1, 0.02)."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)


def translate(x: torch.Tensor, *, ratio: float, generator: torch.Generator) -> torch.Tensor:
    """Shift each image by a random whole number of pixels (up to ratio*size), zero-filling (DiffAugment)."""
    b, _, h, w = x.shape
    pad = int(h * ratio + 0.5)
    if pad == 0:
        return x
    shift = torch.randint(0, 2 * pad + 1, (2, b, 1, 1), generator=generator).to(x.device)  # [2, B, 1, 1]
    rows = torch.arange(h, device=x.device)[None, :, None] + shift[0]  # [B, H, 1]
    cols = torch.arange(w, device=x.device)[None, None, :] + shift[1]  # [B, 1, W]
    padded = F.pad(x, [pad, pad, pad, pad])  # [B, C, H+2p, W+2p]
    return padded[torch.arange(b, device=x.device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2)  # [B, C, H, W]


@torch.no_grad()
def recalibrate_batchnorm(G: Generator, *, prior: str, seed: int, batches: int = 8, batch: int = 256,
                          beside: Callable[[int, torch.Generator], torch.Tensor] | None = None) -> Generator:
    """Re-estimate G's BatchNorm running statistics from fresh samples, then leave G in eval mode.

    ``beside(count, generator)`` -> [count, nz]: latents drawn in each batch beside the prior samples, as
    G's training batches held them (the reconstruction term's E(x) of real images). Statistics of prior
    samples alone would then differ from the ones G learned to draw those images with."""
    norms = [m for m in G.modules() if isinstance(m, nn.BatchNorm2d)]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average over the batches below
    generator = torch.Generator().manual_seed(seed)
    device = next(G.parameters()).device
    G.train()
    for _ in range(batches):
        z = sample_prior(batch, G.config.nz, prior=prior, generator=generator).to(device)  # [batch, nz]
        G(z if beside is None else torch.cat([z, beside(batch, generator).to(device)]))
    for m in norms:
        m.momentum = 0.1
    return G.eval()


def draw_index(count: int, *, size: int, weights: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    """[count] indices into a set of ``size`` images: uniform, or in proportion to ``weights`` [size]."""
    if weights is None:
        return torch.randint(0, size, (count,), generator=generator)
    return torch.multinomial(weights, count, replacement=True, generator=generator)


def reconstruction_loss(reconstructed: torch.Tensor, real: torch.Tensor, *, tone: str,
                        blob_gain: float = 0.0) -> torch.Tensor:
    """Mean L1 between [B, 3, R, R] images in [-1, 1], taken through ``tone`` (networks.tone_curve): "sqrt"
    weighs an error in a dark pixel several times more than the same error in a bright one. ``blob_gain`` > 0
    weighs each pixel by bright_blob_weights, so that a moon's few pixels count for more than their area."""
    error = (tone_curve(reconstructed, tone) - tone_curve(real, tone)).abs()  # [B, 3, R, R]
    if blob_gain == 0:
        return error.mean()
    weights = bright_blob_weights(real, gain=blob_gain)  # [B, 1, R, R]
    return (error * weights).mean() / weights.mean()


def dark_boost_weights(images: torch.Tensor, *, boost: float) -> torch.Tensor:
    """Sampling weights [N] over uint8 images [N, 3, R, R]: ``boost`` for a dark scene (mean level under
    DARK_SCENE_MEAN), 1 for any other."""
    means = torch.cat([chunk.float().mean(dim=(1, 2, 3)) / 255 for chunk in images.split(4096)])  # [N]
    return torch.where(means < DARK_SCENE_MEAN, boost, 1.0)
