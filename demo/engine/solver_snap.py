"""Encoder starts: when the strokes change, the worst candidates start again from the encoder's reading of
the best candidate with the strokes painted into it.

From a random start, Adam moves a latent until G's image matches the strokes, and on the way the image leaves
the manifold: bands where the strokes were, muddy colours (a natural image that matches is far away; the
gradient finds a near, unnatural one). The encoder maps the painted picture straight back to a latent of a
natural image that resembles it, so those candidates begin where a natural answer is, and the solver refines
them; the best candidates keep their progress, and the ranking decides what is shown.
"""

from __future__ import annotations

import torch

from demo.engine.losses import ConstraintTensors, to_unit

# Solver steps from one encoder start to the next: the strokes change every chunk while one is drawn, and a
# restart costs a render of all K and an encoder pass. The last change always gets its start, this late at most.
ENCODER_START_EVERY = 10


@torch.no_grad()
def encoder_starts(encoder: torch.nn.Module, images: torch.Tensor, losses: torch.Tensor, ct: ConstraintTensors, *,
                   count: int, jitter: float, uniform: bool, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows [K] bool, fresh latents [K, nz]): the ``count`` worst candidates by ``losses`` [K] and where they start.

    ``images`` [K, C, R, R] in [-1, 1] are the candidates' renders; the painted picture is the best one with
    the colour strokes over it (their soft coverage as alpha).
    """
    k = images.shape[0]
    count = min(count, k - 1)  # the best candidate always keeps its place
    order = torch.argsort(losses)  # [K], best first
    best = to_unit(images[order[0]:order[0] + 1])  # [1, 3, R, R] in 0..1
    painted = best * (1 - ct.color_mask) + ct.color * ct.color_mask  # [1, 3, R, R]
    centre = encoder(painted * 2 - 1)  # [1, nz]
    noise = torch.randn(count, centre.shape[1], generator=generator).to(centre) * jitter  # [count, nz]
    noise[0] = 0
    fresh_rows = centre + noise
    if uniform:
        fresh_rows = fresh_rows.clamp(-1, 1)
    rows = torch.zeros(k, dtype=torch.bool, device=images.device)
    rows[order[k - count:]] = True
    fresh = torch.zeros(k, centre.shape[1], device=images.device)
    fresh[rows] = fresh_rows
    return rows, fresh
