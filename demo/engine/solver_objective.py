"""The solver's total loss per candidate: term by term (``reported_losses``, what ``evaluate`` reports), and
fused for the optimisation step (``Objective``).

The fused form has the same value as the sum of the weighted terms in ``losses.py``, computed with less work
per step:

- color and warp are both masked squared errors, so their weighted sum is one quadratic,
  sum_px A (x - B)^2 + C, with A, B and C built once per constraint change (not per step);
- everything is in the generator's [-1, 1] units (no ``to_unit`` per step), and the gray
  conversion is folded into the HOG's Sobel filter (one convolution from G(z) to gradients);
- the HOG runs only on the cells the sketch mask touches, each gathered with its border in one
  indexing op (see ``HOG.of_image_cells``).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from demo.engine.hog import HOG
from demo.engine.losses import (
    ConstraintTensors,
    color_term,
    prior_term,
    realism_term,
    sketch_term,
    to_unit,
    typical_band_around,
    typical_term,
    warp_term,
)


@dataclass(frozen=True, kw_only=True)
class Weights:
    color: float
    sketch: float
    warp: float
    prior: float
    realism: float
    typical: float


@dataclass(frozen=True, kw_only=True)
class Objective:
    """``objective(z, images) -> total [K]``; build with ``Objective.build``."""

    quad_weight: torch.Tensor | None  # [1, 3, R, R], A in image units
    quad_target: torch.Tensor | None  # [1 or K, 3, R, R], B in image units
    quad_offset: torch.Tensor | float  # [K] or 0, C (keeps the value equal to the terms' sum)
    hog: HOG
    sketch_patches: torch.Tensor | None  # [N * C * side^2] gather index of the N cells the sketch mask touches
    sketch_target: torch.Tensor | None  # [N, O] the sketch's histograms in those cells
    sketch_cells: torch.Tensor | None  # [N, 1] cell weights, sketch weight / mask area folded in
    prior_weight: float
    z0: torch.Tensor  # [K, nz]
    typical_weight: float
    typical_band: tuple[torch.Tensor, torch.Tensor]  # [K], [K] (losses.typical_band_around)
    realism_weight: float
    discriminator: torch.nn.Module | None

    @property
    def active(self) -> bool:
        """False when no term pulls anywhere (nothing to optimise)."""
        return (self.quad_weight is not None or self.sketch_target is not None or self.prior_weight > 0
                or self.realism_weight > 0 or self.typical_weight > 0)

    @classmethod
    def build(cls, ct: ConstraintTensors | None, *, warp_wanted: torch.Tensor | None, weights: Weights, hog: HOG,
              channels: int, z0: torch.Tensor, typical_band: tuple[float, float],
              discriminator: torch.nn.Module | None) -> "Objective":
        """``channels``: the generator's (3, or 1 for grey); ``typical_band``: the prior's (losses.typical_band)."""
        quad_weight = quad_target = None
        quad_offset: torch.Tensor | float = 0.0
        # Color and warp: sum_i a_i (u - t_i)^2 = A (u - B)^2 + C, with u = (x + 1) / 2.
        parts = []
        if ct is not None and ct.has_color and weights.color > 0:
            parts.append((weights.color * ct.color_mask / (3 * ct.color_area.clamp_min(1e-6)), ct.color))
        if ct is not None and ct.has_warp and warp_wanted is not None and weights.warp > 0:
            parts.append((weights.warp * ct.warp_mask / (3 * ct.warp_mask.sum().clamp_min(1e-6)), warp_wanted))
        if parts:
            total_a = sum(a.expand(-1, 3, -1, -1) for a, _ in parts)  # [1, 3, R, R]
            weighted = sum(a * t for a, t in parts)  # [1 or K, 3, R, R]
            centre = torch.where(total_a > 0, weighted / total_a.clamp_min(1e-30), torch.zeros_like(weighted))
            squares = sum((a * t * t).sum((1, 2, 3)) for a, t in parts)  # [1 or K]
            quad_offset = squares - (total_a * centre * centre).sum((1, 2, 3))
            # (u - B)^2 = (x - (2B - 1))^2 / 4.
            quad_weight, quad_target = total_a / 4, (2 * centre - 1).contiguous()
        sketch_patches = sketch_target = sketch_cells = None
        if ct is not None and ct.has_sketch and weights.sketch > 0:
            # Only cells inside the sketch band count: the HOG runs on those alone.
            cell_weights = ct.sketch_cells.flatten()  # [h * w]
            active = torch.nonzero(cell_weights > 0).flatten()  # [N]
            sketch_patches = hog.patch_index(resolution=ct.color.shape[-1], channels=channels, cells=active)
            sketch_target = ct.sketch_hog.flatten(2)[0].t()[active]  # [N, O]
            sketch_cells = (weights.sketch * cell_weights[active] / cell_weights.sum().clamp_min(1e-6))[:, None]
        return cls(
            quad_weight=quad_weight, quad_target=quad_target, quad_offset=quad_offset, hog=hog,
            sketch_patches=sketch_patches, sketch_target=sketch_target, sketch_cells=sketch_cells, prior_weight=weights.prior, z0=z0,
            typical_weight=weights.typical, typical_band=typical_band_around(z0, typical_band),
            realism_weight=weights.realism, discriminator=discriminator if weights.realism > 0 else None,
        )

    def __call__(self, z: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        """z [K, nz], images [K, C, R, R] in [-1, 1] -> total loss [K]."""
        total = torch.zeros(z.shape[0], device=z.device)
        if self.quad_weight is not None:
            rgb = images.expand(-1, 3, -1, -1) if images.shape[1] == 1 else images  # [K, 3, R, R]
            total = total + ((rgb - self.quad_target).square() * self.quad_weight).sum((1, 2, 3)) + self.quad_offset
        if self.sketch_target is not None:
            hist = self.hog.of_image_cells(images, self.sketch_patches)  # [K, N, O]
            total = total + ((hist - self.sketch_target).square() * self.sketch_cells).sum((1, 2))
        if self.prior_weight > 0:
            total = total + self.prior_weight * (z - self.z0).square().mean(1)
        if self.typical_weight > 0:
            total = total + self.typical_weight * typical_term(z, self.typical_band)
        if self.discriminator is not None:
            total = total + self.realism_weight * realism_term(self.discriminator(images))
        return total


def reported_losses(z: torch.Tensor, images: torch.Tensor, *, ct: ConstraintTensors | None,
                    warp_wanted: torch.Tensor | None, weights: Weights, hog: HOG, z0: torch.Tensor,
                    typical_band: tuple[float, float], discriminator: torch.nn.Module | None,
                    ) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Total loss [K] and the unweighted terms that are active, each computed on its own (``losses.py``)."""
    unit = to_unit(images)  # [K, 3, R, R]
    terms: dict[str, torch.Tensor] = {}
    total = torch.zeros(z.shape[0], device=z.device)
    if ct is not None and ct.has_color:
        terms["color"] = color_term(unit, ct)
        total = total + weights.color * terms["color"]
    if ct is not None and ct.has_sketch:
        terms["sketch"] = sketch_term(unit, ct, hog)
        total = total + weights.sketch * terms["sketch"]
    if ct is not None and ct.has_warp and warp_wanted is not None:
        terms["warp"] = warp_term(unit, warp_wanted, ct)
        total = total + weights.warp * terms["warp"]
    if weights.prior > 0:
        terms["prior"] = prior_term(z, z0)
        total = total + weights.prior * terms["prior"]
    if weights.typical > 0:
        terms["typical"] = typical_term(z, typical_band_around(z0, typical_band))
        total = total + weights.typical * terms["typical"]
    if weights.realism > 0:
        terms["realism"] = realism_term(discriminator(images))
        total = total + weights.realism * terms["realism"]
    return total, terms
