"""Display-resolution images: a small x4 upsampler for G's images, faithful to them at model resolution.

The network is ESPCN-like: a few 3x3 convolutions at the low resolution predict a residual over
bicubic upsampling, rearranged by a pixel shuffle (x4). A fidelity step (iterative back-projection)
then corrects the result so that its area-downsample equals the input, up to rounding, so strokes
painted on the display image keep meaning what they meant on G's image.

    upsampler = load_upsampler("cpu")          # None when models/upsample4x.* is missing
    display = upsampler.upsample(images)       # uint8 [N, R, R, 3] -> uint8 [N, 4R, 4R, 3]

Weights are ``models/upsample4x.safetensors`` (tensors ``net.*``) with the card
``models/upsample4x.json`` (config, data, licence, measured metrics). Trained by
``python -m demo.train.upsampler``; see docs/upsampler.md.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from demo.engine.checkpoint import MODELS_DIR
from demo.engine.checkpoint.safetensors_io import write_model_file
from demo.engine.filters import bilateral_filter
from demo.engine.upsample_phases import (
    back_project,
    bicubic_phase_kernel,
    bicubic_phases,
    bicubic_upsample,
    hold_within,
    phases_to_image,
)
from demo.errors import UserError

DEFAULT_UPSAMPLER = MODELS_DIR / "upsample4x.safetensors"
DEFAULT_DETAIL = MODELS_DIR / "detail4x.safetensors"  # the detail generator: same format, trained against a critic
# The settings a file's config may change at inference, without retraining (ship, a G card's "display").
INFERENCE_SETTINGS = ("back_projection_steps", "residual_gain", "fidelity_limit", "input_smoothing")
DISPLAY_NETWORK = "network"  # in a G card's "display": its own network for the shown image (a file stem in models/)


@dataclass(frozen=True, kw_only=True)
class UpsamplerConfig:
    """Network shape: ``depth`` 3x3 convs of ``width`` channels at low resolution, then a x``scale`` shuffle."""

    scale: int = 4
    channels: int = 3
    width: int = 24
    depth: int = 3
    back_projection_steps: int = 1
    residual_gain: float = 1.0  # scales the learnt residual at inference (1 while training; set at export)
    # Low-pass the last fidelity correction ([1, 2, 1] binomial), so the network may remove G's 2-pixel
    # checkerboard and noise; fidelity is then measured (RMSE at model resolution), not exact.
    smooth_fidelity: bool = True
    # After that, no 64^2 pixel's block mean may differ from G's by more than this many levels (0..255): the
    # part of the error beyond it is added back flat, so a painted colour stays the colour the solver sees even
    # where the network redrew an edge. 0 turns it off.
    fidelity_limit: float = 0.0
    # Before the network, G's image is smoothed by a bilateral filter of this colour sigma (levels, 0..255; 0:
    # off): blotches and grain within a region flatten, edges stay. The fidelity limit still holds the result
    # to G's own image. For Gs whose images are noisier than their scenes (the avatars': flat-shaded art).
    input_smoothing: float = 0.0

    def __post_init__(self) -> None:
        if self.scale < 2:
            raise ValueError(f"scale must be >= 2, got {self.scale}")
        if self.width < 1 or self.depth < 1:
            raise ValueError(f"width and depth must be >= 1, got {self.width}, {self.depth}")
        if self.back_projection_steps < 0:
            raise ValueError(f"back_projection_steps must be >= 0, got {self.back_projection_steps}")
        if self.fidelity_limit < 0 or self.input_smoothing < 0:
            raise ValueError(f"fidelity_limit and input_smoothing must be >= 0 levels, got {self.fidelity_limit}, "
                             f"{self.input_smoothing}")


class UpsampleNet(nn.Module):
    """[B, C, R, R] in [-1, 1] -> [B, C, sR, sR]: bicubic + learnt residual, then back-projection."""

    def __init__(self, config: UpsamplerConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width_in = config.channels
        for _ in range(config.depth):
            layers += [nn.Conv2d(width_in, config.width, 3, padding=1), nn.ReLU(inplace=True)]
            width_in = config.width
        layers.append(nn.Conv2d(width_in, config.channels * config.scale**2, 3, padding=1))
        self.residual = nn.Sequential(*layers)  # [B, C*s*s, R, R], channel c*s*s + phase
        # Start as plain bicubic: the last conv predicts no residual until trained.
        nn.init.zeros_(layers[-1].weight)
        nn.init.zeros_(layers[-1].bias)
        self.register_buffer("bicubic_kernel", bicubic_phase_kernel(config.scale), persistent=False)

    def phases(self, images: torch.Tensor) -> torch.Tensor:
        """[B, C, R, R] -> the display image in phase layout [B, C, s*s, R, R] (see back_project)."""
        b, c, h, w = images.shape
        kernel = self.bicubic_kernel
        source = images
        if self.config.input_smoothing > 0:
            source = bilateral_filter(images, sigma_colour=self.config.input_smoothing / 127.5)  # [B, C, R, R]
        residual = self.residual(source).view(b, c, kernel.shape[0], h, w)  # [B, C, s*s, R, R]
        if self.config.residual_gain != 1.0:
            residual = self.config.residual_gain * residual
        phases = bicubic_phases(source, kernel) + residual
        phases = back_project(phases, source, steps=self.config.back_projection_steps, kernel=kernel,
                              smooth=self.config.smooth_fidelity)
        limit = self.config.fidelity_limit / 127.5
        return hold_within(phases, images, limit=limit) if limit > 0 else phases

    def reconfigured(self, **settings) -> UpsampleNet:
        """The same weights under other inference settings (``residual_gain``, ``fidelity_limit``, ...), in eval mode."""
        changed = UpsampleNet(replace(self.config, **settings))
        changed.load_state_dict(self.state_dict())
        return changed.eval().requires_grad_(False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return phases_to_image(self.phases(images))  # [B, C, sR, sR]


@dataclass(frozen=True)
class Upsampler:
    """A loaded upsampler on one device: uint8 images in, uint8 display images out."""

    net: UpsampleNet
    card: dict[str, Any]
    device: torch.device

    @property
    def scale(self) -> int:
        return self.net.config.scale

    def upsample(self, images: np.ndarray) -> np.ndarray:
        """uint8 [N, R, R, 3] (or one [R, R, 3]) -> uint8 [N, sR, sR, 3] (or one [sR, sR, 3])."""
        single = images.ndim == 3
        batch = images[None] if single else images
        if batch.ndim != 4 or batch.shape[-1] != self.net.config.channels or batch.dtype != np.uint8:
            raise ValueError(f"expected uint8 [N, R, R, {self.net.config.channels}] images, got {images.dtype} {images.shape}")
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(batch)).to(self.device)
            x = x.permute(0, 3, 1, 2).float() / 127.5 - 1  # [N, 3, R, R]
            phases = self.net.phases(x)  # [N, 3, s*s, R, R]
            phases = phases.mul(127.5).add_(128.0).clamp_(0, 255).to(torch.uint8)  # rounded: 127.5 * (x + 1) + 0.5
            n, c, _, r, _ = phases.shape
            s = self.scale
            # Interleave the phases into pixels, channels last, in one copy: [N, R, s, R, s, C].
            pixels = phases.view(n, c, s, s, r, r).permute(0, 4, 2, 5, 3, 1)
            out = pixels.reshape(n, r * s, r * s, c).cpu().numpy()
        return out[0] if single else out


def save_upsampler(path: str | Path, net: UpsampleNet, card: dict[str, Any]) -> Path:
    """Write ``path`` (.safetensors, tensors ``net.*``, the card embedded) and its card ``.json``, each replaced
    all at once."""
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    card = {**card, "config": asdict(net.config)}
    tensors = {f"net.{k}": v.detach().cpu().contiguous().clone() for k, v in net.state_dict().items()}
    write_model_file(path, tensors, card_text=json.dumps(card, indent=2))
    return path


def read_upsampler(path: str | Path, *, device: torch.device | str = "cpu") -> Upsampler:
    """Load an upsampler file; raises UserError naming the file and the reason."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: upsampler file not found")
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable safetensors file ({exc})") from None
    card_path = path.with_suffix(".json")
    try:
        card = json.loads(card_path.read_text())
        config = UpsamplerConfig(**card["config"])
    except FileNotFoundError:
        raise UserError(f"{card_path}: upsampler card missing") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{card_path}: not a valid upsampler card ({exc})") from None
    net = UpsampleNet(config)
    state = {k[len("net."):]: v for k, v in tensors.items() if k.startswith("net.")}
    try:
        net.load_state_dict(state)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise UserError(f"{path}: weights do not fit the card's config ({first})") from None
    device = torch.device(device)
    net.to(device).eval().requires_grad_(False)
    return Upsampler(net=net, card=card, device=device)


def load_upsampler(device: torch.device | str = "cpu", *, settings: Mapping[str, Any] | None = None,
                   path: str | Path = DEFAULT_UPSAMPLER) -> Upsampler | None:
    """The shipped upsampler, or None when its weights are missing (callers then fall back to bicubic).
    ``settings``: the G's own display settings (its card's ``display``), whose inference settings replace the
    file's (a ``network`` there names the shown image's network, not this one)."""
    if not Path(path).exists():
        return None
    return with_settings(read_upsampler(path, device=device), display_choice(settings)[1])


def load_display(device: torch.device | str = "cpu", *, settings: Mapping[str, Any] | None = None,
                 path: str | Path | None = None, fallback: str | Path = DEFAULT_UPSAMPLER) -> Upsampler | None:
    """The network for a shown image at display size: ``path``, else the G's own (its card's ``display``
    names it as ``network``), else the detail generator; where a file is missing, the next, with one warning
    line, and last the x4 upsampler; None when none is there (callers then use bicubic). A corrupt file raises
    UserError naming it. ``settings``: the G's display settings, whose inference settings replace the file's."""
    own, inference = display_choice(settings)
    candidates = [Path(path)] if path is not None else [file for file in (own, DEFAULT_DETAIL) if file is not None]
    for index, file in enumerate(candidates):
        if file.exists():
            return with_settings(read_upsampler(file, device=device), inference)
        after = candidates[index + 1].stem if index + 1 < len(candidates) else "the x4 upsampler"
        _warn_once(f"warning: {file} is missing; display images use {after}")
    return load_upsampler(device, settings=inference, path=fallback)


def display_choice(settings: Mapping[str, Any] | None) -> tuple[Path | None, dict[str, Any]]:
    """A G's display settings split into the file of its own display network (its ``network``, a model in
    models/; None: the default) and the inference settings (INFERENCE_SETTINGS) that replace a file's."""
    inference = dict(settings or {})
    name = inference.pop(DISPLAY_NETWORK, None)
    if name is None:
        return None, inference
    if not isinstance(name, str) or not name or Path(name).name != name or name.startswith("."):
        raise UserError(f"display settings: {DISPLAY_NETWORK!r} must name a model in {MODELS_DIR} (e.g. "
                        f"detail4x_avatars), got {name!r}")
    return MODELS_DIR / f"{name}.safetensors", inference


def with_settings(upsampler: Upsampler, settings: Mapping[str, Any] | None) -> Upsampler:
    """The same network under other inference settings (only those in INFERENCE_SETTINGS; UserError else);
    ``upsampler`` itself when there are none."""
    if not settings:
        return upsampler
    unknown = sorted(set(settings) - set(INFERENCE_SETTINGS))
    if unknown:
        known = ", ".join((*INFERENCE_SETTINGS, DISPLAY_NETWORK))
        raise UserError(f"display settings: unknown {', '.join(unknown)} (known: {known})")
    try:
        net = upsampler.net.reconfigured(**settings).to(upsampler.device)
    except (TypeError, ValueError) as exc:
        raise UserError(f"display settings {dict(settings)!r}: {exc}") from None
    return replace(upsampler, net=net, card={**upsampler.card, "settings": dict(settings)})


@functools.cache
def _warn_once(line: str) -> None:
    print(line, file=sys.stderr)


def upsample_or_resize(upsampler: Upsampler | None, images: np.ndarray, *, scale: int = 4) -> np.ndarray:
    """Display images: the upsampler's when there is one, else bicubic. uint8 [N, R, R, 3] -> [N, sR, sR, 3]."""
    if upsampler is not None:
        return upsampler.upsample(images)
    with torch.inference_mode():
        x = torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2).float()  # [N, 3, R, R]
        y = bicubic_upsample(x, scale).clamp(0, 255).round()  # [N, 3, sR, sR]
    return y.to(torch.uint8).permute(0, 2, 3, 1).numpy()
