"""DCGAN-family networks: generator G, discriminator D and encoder E.

All are configured by frozen dataclasses with keyword-only fields; nothing reads module globals.
The generator keeps the pytorch/examples ``dcgan`` layout (an ``nn.Sequential`` called ``main``),
so its checkpoints (``main.0.weight``...) load directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import nn

PRIORS = ("uniform", "normal")
INPUT_TONES = ("linear", "sqrt")  # how a conv trunk sees its image (see tone_curve)


def tone_curve(x: torch.Tensor, tone: str) -> torch.Tensor:
    """An image in [-1, 1] as a conv trunk sees it, still in [-1, 1].

    "linear" leaves it alone. "sqrt" takes the square root of the intensity (0..1, with a small offset so the
    slope stays finite at black): dark detail gets about 2-5x the contrast and bright detail about 0.55x, so
    a critic feels the structure of night scenes that are otherwise only a few levels apart.
    """
    if tone == "linear":
        return x
    offset = 0.01
    root = ((x + 1) / 2 + offset).clamp_min(offset).sqrt()  # [B, C, R, R], sqrt(offset)..sqrt(1 + offset)
    low, high = offset**0.5, (1 + offset) ** 0.5
    return (root - low) / (high - low) * 2 - 1


def _check_resolution(resolution: int) -> int:
    depth = int(round(math.log2(resolution))) - 2
    if resolution < 8 or 4 * 2**depth != resolution:
        raise ValueError(f"resolution must be a power of two >= 8, got {resolution}")
    return depth


def default_widths(resolution: int, base: int) -> tuple[int, ...]:
    """Channel widths from the 4x4 stage down to resolution/2: e.g. 64 -> (8b, 4b, 2b, b)."""
    depth = _check_resolution(resolution)
    return tuple(base * 2 ** (depth - 1 - i) for i in range(depth))


@dataclass(frozen=True, kw_only=True)
class GeneratorConfig:
    """A DCGAN generator: z -> 4x4 -> ... -> resolution, ``len(widths)`` up-sampling stages."""

    resolution: int = 64
    nz: int = 100
    widths: tuple[int, ...] = field(default=(256, 128, 64, 32))
    channels: int = 3
    conv_bias: bool = False

    def __post_init__(self) -> None:
        depth = _check_resolution(self.resolution)
        if len(self.widths) != depth:
            raise ValueError(
                f"resolution {self.resolution} needs {depth} widths, got {len(self.widths)}"
            )
        if self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 or 3, got {self.channels}")

    @classmethod
    def from_base(cls, *, resolution: int, nz: int, base: int, channels: int = 3) -> "GeneratorConfig":
        return cls(resolution=resolution, nz=nz, widths=default_widths(resolution, base), channels=channels)


@dataclass(frozen=True, kw_only=True)
class CriticConfig:
    """A DCGAN conv trunk (used by D and E): resolution -> 4x4, widths grow as the image shrinks."""

    resolution: int = 64
    widths: tuple[int, ...] = field(default=(32, 64, 128, 256))
    channels: int = 3
    spectral_norm: bool = True
    input_tone: str = "linear"  # one of INPUT_TONES

    def __post_init__(self) -> None:
        depth = _check_resolution(self.resolution)
        if len(self.widths) != depth:
            raise ValueError(
                f"resolution {self.resolution} needs {depth} widths, got {len(self.widths)}"
            )
        if self.input_tone not in INPUT_TONES:
            raise ValueError(f"input_tone must be one of {INPUT_TONES}, got {self.input_tone!r}")

    @classmethod
    def from_base(cls, *, resolution: int, base: int, channels: int = 3, spectral_norm: bool = True,
                  input_tone: str = "linear") -> "CriticConfig":
        widths = tuple(reversed(default_widths(resolution, base)))
        return cls(resolution=resolution, widths=widths, channels=channels, spectral_norm=spectral_norm,
                   input_tone=input_tone)


class Generator(nn.Module):
    """z [B, nz] (or [B, nz, 1, 1]) -> image [B, C, R, R] in [-1, 1]."""

    def __init__(self, config: GeneratorConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        in_ch = config.nz
        for i, width in enumerate(config.widths):
            # First stage 1x1 -> 4x4, then each stage doubles the size.
            stride, pad = (1, 0) if i == 0 else (2, 1)
            layers += [
                nn.ConvTranspose2d(in_ch, width, 4, stride, pad, bias=config.conv_bias),
                nn.BatchNorm2d(width),
                nn.ReLU(True),
            ]
            in_ch = width
        layers += [nn.ConvTranspose2d(in_ch, config.channels, 4, 2, 1, bias=config.conv_bias), nn.Tanh()]
        self.main = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() == 2:
            z = z[:, :, None, None]  # [B, nz, 1, 1]
        return self.main(z)  # [B, C, R, R]


class ConvTrunk(nn.Module):
    """image [B, C, R, R] -> features [B, widths[-1], 4, 4], keeping each stage's activation."""

    def __init__(self, config: CriticConfig):
        super().__init__()
        self.config = config
        wrap = nn.utils.spectral_norm if config.spectral_norm else (lambda m: m)
        stages = []
        in_ch = config.channels
        for width in config.widths:
            stages.append(nn.Sequential(wrap(nn.Conv2d(in_ch, width, 4, 2, 1)), nn.LeakyReLU(0.2, True)))
            in_ch = width
        self.stages = nn.ModuleList(stages)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = tone_curve(x, self.config.input_tone)  # [B, C, R, R]
        features = []
        for stage in self.stages:
            x = stage(x)
            features.append(x)
        return features  # [B, w_i, R/2^(i+1), R/2^(i+1)] each


class Discriminator(nn.Module):
    """image [B, C, R, R] -> realness logit [B]. Its trunk features also serve as a perceptual metric."""

    def __init__(self, config: CriticConfig):
        super().__init__()
        self.config = config
        self.trunk = ConvTrunk(config)
        wrap = nn.utils.spectral_norm if config.spectral_norm else (lambda m: m)
        self.head = wrap(nn.Conv2d(config.widths[-1], 1, 4, 1, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x)[-1]).flatten()  # [B]

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.trunk(x)


class Encoder(nn.Module):
    """image [B, C, R, R] -> latent [B, nz], squashed into the prior's support (tanh for uniform)."""

    def __init__(self, config: CriticConfig, *, nz: int, prior: str):
        super().__init__()
        if prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")
        self.config = config
        self.nz = nz
        self.prior = prior
        self.trunk = ConvTrunk(config)
        self.head = nn.Linear(config.widths[-1] * 16, nz)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.trunk(x)[-1].flatten(1)  # [B, w*16]
        z = self.head(h)  # [B, nz]
        return torch.tanh(z) if self.prior == "uniform" else z
