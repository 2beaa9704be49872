"""A differentiable HOG (histogram of oriented gradients) in torch, as iGAN's sketch term used."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class HOG(nn.Module):
    """gray [B, 1, H, W] in 0..1 -> cell histograms [B, O, H/cell, W/cell], L2-normalised per cell.

    Orientations are unsigned (0..pi), so a drawn line and an image edge along it agree. Each
    gradient votes into its two nearest orientation bins with linear weights, so the histogram is
    differentiable almost everywhere.
    """

    def __init__(self, *, orientations: int = 8, cell: int = 4, eps: float = 0.05):
        super().__init__()
        self.orientations = orientations
        self.cell = cell
        self.eps = eps
        sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8.0
        self.register_buffer("kernel", torch.stack([sobel, sobel.t()])[:, None], persistent=False)  # [2, 1, 3, 3]
        centres = torch.arange(orientations, dtype=torch.float32) * (math.pi / orientations)
        self.register_buffer("centres", centres.view(1, -1, 1, 1), persistent=False)  # [1, O, 1, 1]

    def forward(self, gray: torch.Tensor) -> torch.Tensor:
        grad = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="replicate"), self.kernel)  # [B, 2, H, W]
        gx, gy = grad[:, :1], grad[:, 1:]
        magnitude = torch.sqrt(gx * gx + gy * gy + 1e-8)  # [B, 1, H, W]
        angle = torch.atan2(gy, gx).remainder(math.pi)  # [B, 1, H, W] in [0, pi)
        # Linear votes into the two nearest bins (circular distance on [0, pi)).
        bin_width = math.pi / self.orientations
        distance = (angle - self.centres).abs()  # [B, O, H, W]
        distance = torch.minimum(distance, math.pi - distance)
        votes = F.relu(1.0 - distance / bin_width) * magnitude  # [B, O, H, W]
        cells = F.avg_pool2d(votes, self.cell)  # [B, O, H/c, W/c]
        norm = torch.sqrt((cells * cells).sum(1, keepdim=True) + self.eps**2)
        return cells / norm
