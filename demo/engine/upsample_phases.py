"""The x4 display networks' phase layout, bicubic baseline and fidelity step (torch only).

An image upsampled by ``s`` is held as phases [B, C, s*s, H, W] at the low resolution: pixel (s*i + py, s*j + px)
is phase py*s + px at (i, j). Bicubic upsampling is then one grouped convolution, the area-downsample a mean over
the phases, and back-projection and the fidelity limit (the fidelity steps) a few additions at low resolution.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F


def area_downsample(images: torch.Tensor, scale: int) -> torch.Tensor:
    """[B, C, sH, sW] -> [B, C, H, W], the mean of each scale x scale block (OpenCV's INTER_AREA)."""
    b, c, h, w = images.shape
    blocks = F.pixel_unshuffle(images, scale)  # [B, C*s*s, H, W]
    return blocks.view(b, c, scale * scale, h // scale, w // scale).mean(2)


def _cubic_weights(t: float, *, a: float = -0.75) -> list[float]:
    """Weights of the 4 taps at offsets -1, 0, 1, 2 for a sample at fraction t (PyTorch's bicubic, a = -0.75)."""
    def near(x: float) -> float:
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x: float) -> float:
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def bicubic_phase_kernel(scale: int) -> torch.Tensor:
    """[s*s, 1, K, K] filters: phase (py, px) of a bicubic x``scale`` upsample, as one conv + pixel shuffle.

    Output pixel s*i + p samples the input at i + (2p + 1 - s) / (2s) (align_corners=False); its four
    taps fall within offsets -radius..radius of i, so a K = 2*radius+1 kernel covers every phase.
    """
    radius = 2
    taps = torch.zeros(scale, 2 * radius + 1, dtype=torch.float64)  # [phase, offset]
    for phase in range(scale):
        source = (2 * phase + 1 - scale) / (2 * scale)
        base = int(np.floor(source))
        for k, weight in enumerate(_cubic_weights(source - base)):
            taps[phase, base - 1 + k + radius] += weight
    kernel = taps[:, None, :, None] * taps[None, :, None, :]  # [py, px, K, K]
    return kernel.reshape(scale * scale, 1, 2 * radius + 1, 2 * radius + 1).float()


def bicubic_phases(images: torch.Tensor, kernel: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] -> [B, C, s*s, H, W], the bicubic upsample in phase layout (see back_project)."""
    b, c, h, w = images.shape
    weight = kernel.to(images).repeat(c, 1, 1, 1)  # [C*s*s, 1, K, K]
    pad = (kernel.shape[-1] - 1) // 2
    phases = F.conv2d(F.pad(images, (pad,) * 4, mode="replicate"), weight, groups=c)  # [B, C*s*s, H, W]
    return phases.view(b, c, kernel.shape[0], h, w)


def phases_to_image(phases: torch.Tensor) -> torch.Tensor:
    """[B, C, s*s, H, W] -> [B, C, sH, sW]."""
    b, c, s2, h, w = phases.shape
    return F.pixel_shuffle(phases.reshape(b, c * s2, h, w), int(round(s2**0.5)))


def bicubic_upsample(images: torch.Tensor, scale: int) -> torch.Tensor:
    """[B, C, H, W] -> [B, C, sH, sW], bicubic with clamped borders, equal to F.interpolate's (the baseline).

    A fixed phase conv + pixel shuffle, several times cheaper on CPU than F.interpolate(mode="bicubic").
    """
    return phases_to_image(bicubic_phases(images, bicubic_phase_kernel(scale)))


def binomial_blur(images: torch.Tensor) -> torch.Tensor:
    """[B, C, H, W] filtered by [1, 2, 1] / 4 along each axis (reflected borders); removes the 2-pixel period.

    Shifted sums of one padded copy: on a 64x64 image, cheaper than two depthwise convolutions."""
    padded = F.pad(images, (1, 1, 1, 1), mode="reflect")  # [B, C, H+2, W+2]
    rows = padded[..., :-2] + 2 * padded[..., 1:-1] + padded[..., 2:]  # [B, C, H+2, W]
    return (rows[..., :-2, :] + 2 * rows[..., 1:-1, :] + rows[..., 2:, :]) * (1 / 16)


def back_project(phases: torch.Tensor, reference: torch.Tensor, *, steps: int, kernel: torch.Tensor,
                 smooth: bool = False) -> torch.Tensor:
    """Add the upsampled error of the display image against ``reference``, ``steps`` times.

    The display image is in phase layout, phases [B, C, s*s, H, W]: pixel (s*i + py, s*j + px) is
    phases[:, :, py*s + px, i, j], so its area-downsample is the mean over dim 2. reference is
    [B, C, H, W]. Each step shrinks the low-resolution error (spread bicubically); the last spreads it
    flat over each block, which makes the area-downsample of the result equal ``reference`` exactly, or,
    with ``smooth``, equal to it but for the high-pass (I - binomial) of the error left before that step.
    """
    for step in range(steps):
        error = reference - phases.mean(2)  # [B, C, H, W]
        if step == steps - 1:
            phases = phases + (binomial_blur(error) if smooth else error)[:, :, None]
        else:
            phases = phases + bicubic_phases(error, kernel)
    return phases


def hold_within(phases: torch.Tensor, reference: torch.Tensor, *, limit: float) -> torch.Tensor:
    """Add back, flat over each block, the part of the error against ``reference`` [B, C, H, W] that lies
    beyond +-limit, so that no block's mean strays further than that from it; where white or black clips
    that, the rest goes to the block's pixels that can still move. phases: [B, C, s*s, H, W] in [-1, 1]."""
    left = reference - phases.mean(2)  # [B, C, H, W]
    phases = (phases + (left - left.clamp(-limit, limit))[:, :, None]).clamp(-1.0, 1.0)
    # What white or black clipped off that: spread over the block's pixels that can still move that way.
    left = reference - phases.mean(2)
    beyond = left - left.clamp(-limit, limit)  # [B, C, H, W]
    clipped = beyond.abs() > 1e-6
    if bool(clipped.any()):
        blocks = phases.movedim(2, -1)  # [B, C, H, W, s*s], a view: assigning to it writes phases
        pixels, excess = blocks[clipped], beyond[clipped][:, None]  # [n, s*s], [n, 1]
        movable = torch.where(excess > 0, pixels < 1.0, pixels > -1.0).to(pixels.dtype)
        share = movable.mean(1, keepdim=True).clamp(min=1.0 / pixels.shape[1])
        blocks[clipped] = (pixels + movable * excess / share).clamp(-1.0, 1.0)
    return phases
