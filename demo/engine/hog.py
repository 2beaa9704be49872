"""A differentiable HOG (histogram of oriented gradients) in torch, as iGAN's sketch term used."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class HOG(nn.Module):
    """gray [B, 1, H, W] in 0..1 -> cell histograms [B, O, H/cell, W/cell], L2-normalised per cell.

    Orientations are unsigned (0..pi), so a drawn line and an image edge along it agree. Each
    gradient votes into bin o with weight |g| * relu(cos(2(theta - theta_o)))^2: computed from the
    doubled-angle vector (gx^2 - gy^2, 2 gx gy) / |g| with a 1x1 convolution, so there is no atan2
    and the histogram is smooth and differentiable everywhere.
    """

    def __init__(self, *, orientations: int = 8, cell: int = 4, eps: float = 0.05):
        super().__init__()
        self.orientations = orientations
        self.cell = cell
        self.eps = eps
        sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0
        self.register_buffer("kernel", torch.stack([sobel, sobel.t()])[:, None], persistent=False)  # [2, 1, 3, 3]
        doubled = torch.arange(orientations, dtype=torch.float32) * (2 * math.pi / orientations)
        bins = torch.stack([torch.cos(doubled), torch.sin(doubled)], 1)[:, :, None, None]  # [O, 2, 1, 1]
        self.register_buffer("bins", bins, persistent=False)

    def forward(self, gray: torch.Tensor) -> torch.Tensor:
        grad = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="replicate"), self.kernel)  # [B, 2, H, W]
        gx, gy = grad[:, :1], grad[:, 1:]
        magnitude = torch.sqrt(gx * gx + gy * gy + 1e-8)  # [B, 1, H, W]
        doubled = torch.cat([gx * gx - gy * gy, 2 * gx * gy], 1) / magnitude  # [B, 2, H, W] = |g| (cos 2t, sin 2t)
        votes = F.relu(F.conv2d(doubled, self.bins))  # [B, O, H, W] = |g| relu(cos 2(t - t_o))
        votes = votes * votes / magnitude  # sharpen: |g| relu(cos)^2
        cells = F.avg_pool2d(votes, self.cell)  # [B, O, H/c, W/c]
        norm = torch.sqrt((cells * cells).sum(1, keepdim=True) + self.eps**2)
        return cells / norm
