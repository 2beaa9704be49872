"""The solver's loss terms. Each returns one value per candidate: shape [K].

Images are [K, C, R, R] in [-1, 1]; constraint tensors come from ``ConstraintTensors``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from demo.engine.hog import HOG
from demo.tools.constraints import Constraints


@dataclass(frozen=True)
class ConstraintTensors:
    """``Constraints`` moved to the device once per version, in NCHW layout."""

    version: int
    color: torch.Tensor  # [1, 3, R, R] in 0..1
    color_mask: torch.Tensor  # [1, 1, R, R]
    color_area: torch.Tensor  # [] sum of the mask
    sketch_hog: torch.Tensor | None  # [1, O, R/c, R/c]
    sketch_cells: torch.Tensor | None  # [1, 1, R/c, R/c] cell mask
    warp_grid: torch.Tensor | None  # [1, R, R, 2] grid_sample coordinates of each target's source
    warp_mask: torch.Tensor | None  # [1, 1, R, R]
    has_color: bool
    has_sketch: bool
    has_warp: bool

    @classmethod
    def build(cls, constraints: Constraints, *, hog: HOG, device: torch.device) -> "ConstraintTensors":
        c = constraints
        as_t = lambda a: torch.from_numpy(a.copy()).to(device)
        color = as_t(c.color).permute(2, 0, 1)[None]  # [1, 3, R, R]
        color_mask = as_t(c.color_mask)[None, None]  # [1, 1, R, R]
        sketch_hog = sketch_cells = warp_grid = warp_mask = None
        if c.has_sketch:
            sketch_hog = hog(as_t(c.sketch)[None, None])  # [1, O, R/c, R/c]
            sketch_cells = F.avg_pool2d(as_t(c.sketch_mask)[None, None], hog.cell)  # [1, 1, R/c, R/c]
        if c.has_warp:
            r = c.resolution
            # Pixel-centre coordinates in grid_sample's [-1, 1] convention, shifted to each target's source.
            axis = (torch.arange(r, device=device, dtype=torch.float32) + 0.5) / r * 2 - 1
            gy, gx = torch.meshgrid(axis, axis, indexing="ij")
            base = torch.stack([gx, gy], -1)  # [R, R, 2]
            warp_grid = (base + 2 * as_t(c.warp))[None]  # [1, R, R, 2]
            warp_mask = as_t(c.warp_mask)[None, None]
        return cls(
            version=c.version, color=color, color_mask=color_mask, color_area=color_mask.sum(),
            sketch_hog=sketch_hog, sketch_cells=sketch_cells, warp_grid=warp_grid, warp_mask=warp_mask,
            has_color=c.has_color, has_sketch=c.has_sketch, has_warp=c.has_warp,
        )


def to_unit(images: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1], grey images broadcast to RGB."""
    unit = (images + 1) * 0.5
    return unit.expand(-1, 3, -1, -1) if unit.shape[1] == 1 else unit


def to_gray(unit: torch.Tensor) -> torch.Tensor:
    weights = unit.new_tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
    return (unit * weights).sum(1, keepdim=True)  # [K, 1, R, R]


def color_term(unit: torch.Tensor, ct: ConstraintTensors) -> torch.Tensor:
    """Masked mean squared error against the stroke colors, normalised by mask area. [K]"""
    error = ((unit - ct.color) ** 2 * ct.color_mask).sum((1, 2, 3))
    return error / (3 * ct.color_area.clamp_min(1e-6))


def sketch_term(unit: torch.Tensor, ct: ConstraintTensors, hog: HOG) -> torch.Tensor:
    """HOG of G(z) against HOG of the sketch raster, inside the sketch mask. [K]"""
    hist = hog(to_gray(unit))  # [K, O, R/c, R/c]
    error = ((hist - ct.sketch_hog) ** 2 * ct.sketch_cells).sum((1, 2, 3))
    return error / ct.sketch_cells.sum().clamp_min(1e-6)


def warp_target(start_unit: torch.Tensor, ct: ConstraintTensors) -> torch.Tensor:
    """The start images [K, 3, R, R] with each drag source's content moved to its target (constant per drag)."""
    grid = ct.warp_grid.expand(start_unit.shape[0], -1, -1, -1)
    return F.grid_sample(start_unit, grid, mode="bilinear", padding_mode="border", align_corners=False)


def warp_term(unit: torch.Tensor, wanted: torch.Tensor, ct: ConstraintTensors) -> torch.Tensor:
    """Distance to ``warp_target`` inside the drag targets. [K]"""
    error = ((unit - wanted) ** 2 * ct.warp_mask).sum((1, 2, 3))
    return error / (3 * ct.warp_mask.sum().clamp_min(1e-6))


def prior_term(z: torch.Tensor, z0: torch.Tensor) -> torch.Tensor:
    """Mean squared distance from the start latent. [K]"""
    return ((z - z0) ** 2).mean(1)


def typical_band(prior: str, nz: int) -> tuple[float, float]:
    """The mean of z^2 over nz coordinates that a draw of the prior falls outside about once in 20: E[z^2] -+ 2 sd
    of that mean (uniform[-1, 1]: E 1/3, var 4/45; normal: E 1, var 2)."""
    mean, variance = (1 / 3, 4 / 45) if prior == "uniform" else (1.0, 2.0)
    spread = 2 * (variance / nz) ** 0.5
    return mean - spread, mean + spread


def typical_band_around(z0: torch.Tensor, band: tuple[float, float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Each candidate's band [K], [K]: the prior's, widened to take in its start z0 [K, nz], so the term never
    pulls a candidate away from where it started (a projected photo's latent may lie outside the prior's band)."""
    start = (z0 ** 2).mean(1)  # [K]
    return start.clamp(max=band[0]), start.clamp(min=band[1])


def typical_term(z: torch.Tensor, band: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """How far the mean of z^2 lies outside ``band`` (0 inside; typical_band_around): latents the prior would
    almost never draw, out toward the box's corners (where strokes alone push them, and G draws checkerboards and
    flat colour) or in at its centre (G's blurred mean). [K]"""
    low, high = band
    mean_square = (z ** 2).mean(1)  # [K]
    return (mean_square - high).clamp_min(0) + (low - mean_square).clamp_min(0)


def realism_term(logits: torch.Tensor) -> torch.Tensor:
    """log(1 - D(G(z))) with D = sigmoid(logit), i.e. -softplus(logit). [K]"""
    return -F.softplus(logits)
