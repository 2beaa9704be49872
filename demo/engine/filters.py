"""Image filters on torch tensors shared by the engine and the trainers: a per-image Gaussian blur, an
edge-preserving bilateral filter (the display network's input smoothing), and the bright-blob weights that
make a moon's few pixels count in a pixel loss (projection, G's reconstruction term)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def gaussian_blur(images: torch.Tensor, sigma: torch.Tensor, *, radius: int = 2) -> torch.Tensor:
    """Blur each image of [B, C, H, W] with its own sigma [B] (separable Gaussian of 2 * radius + 1 taps,
    reflected borders)."""
    b, c, h, w = images.shape
    offsets = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    taps = torch.exp(-(offsets[None] ** 2) / (2 * sigma[:, None].clamp_min(1e-3) ** 2))  # [B, 2r+1]
    taps = (taps / taps.sum(1, keepdim=True)).repeat_interleave(c, 0)  # [B*C, 2r+1]
    flat = F.pad(images.reshape(1, b * c, h, w), (radius, radius, radius, radius), mode="reflect")
    flat = F.conv2d(flat, taps[:, None, None, :], groups=b * c)
    flat = F.conv2d(flat, taps[:, None, :, None], groups=b * c)
    return flat.view(b, c, h, w)


def bilateral_filter(images: torch.Tensor, *, sigma_colour: float, sigma_space: float = 3.0,
                     radius: int = 2) -> torch.Tensor:
    """[B, C, H, W] -> the same, each pixel the mean of its disc of ``radius`` weighted by exp(-d^2 / 2
    sigma_space^2) and exp(-a^2 / 2 sigma_colour^2), a = the sum over channels of |difference| (OpenCV's
    ``bilateralFilter(image, 2 * radius + 1, sigma_colour, sigma_space)``, in the images' units; reflected
    borders). Flattens blotches and grain within a region; edges with a colour step well past sigma_colour stay."""
    h, w = images.shape[-2:]
    padded = F.pad(images, (radius,) * 4, mode="reflect")  # [B, C, H+2r, W+2r]
    total = torch.zeros_like(images)
    weights = torch.zeros_like(images[:, :1])  # [B, 1, H, W]
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            if dy * dy + dx * dx > radius * radius:
                continue
            neighbour = padded[:, :, radius + dy:radius + dy + h, radius + dx:radius + dx + w]  # [B, C, H, W]
            colour = (neighbour - images).abs().sum(1, keepdim=True)  # [B, 1, H, W]
            weight = torch.exp(-(dy * dy + dx * dx) / (2 * sigma_space**2) - colour**2 / (2 * sigma_colour**2))
            total += weight * neighbour
            weights += weight
    return total / weights


def bright_blob_weights(images: torch.Tensor, *, gain: float, cap: float = 50.0) -> torch.Tensor:
    """Per-pixel weights [B, 1, R, R] >= 1 of images [B, C, R, R] in [-1, 1]: 1 + gain x how far a pixel's
    luminance stands above its surroundings (a difference of Gaussians, sigma 1 minus sigma 3, bright side only)
    relative to the image's mean luminance, capped at ``cap``. A moon in a night sky (a few pixels, several
    times the sky's level) gets the most; a one-pixel star as bright about a fifth of its excess; flat areas 1."""
    luminance = ((images + 1) / 2).mean(dim=1, keepdim=True)  # [B, 1, R, R], 0..1
    b, _, r, _ = luminance.shape

    def blurred(sigma: float) -> torch.Tensor:  # [B, 1, R, R]
        sigmas = torch.full((b,), sigma, dtype=luminance.dtype, device=luminance.device)  # [B]
        return gaussian_blur(luminance, sigmas, radius=min(int(3 * sigma + 0.5), r - 1))
    bump = (blurred(1.0) - blurred(3.0)).clamp_min(0)  # [B, 1, R, R]
    level = luminance.mean(dim=(2, 3), keepdim=True).clamp_min(0.02)  # [B, 1, 1, 1]
    return (1 + gain * bump / level).clamp_max(cap)
