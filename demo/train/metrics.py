"""Cheap, honest sample-quality figures: diversity and nearest-neighbour distances in pixel space.

All distances are RMS per pixel channel in 0..255 units, so they read like image differences.
Mode collapse shows as sample diversity far below data diversity; memorisation shows as samples
lying much nearer the training set than unseen real images do.
"""

from __future__ import annotations

import torch


def _flat(images: torch.Tensor) -> torch.Tensor:
    """uint8 [N, 3, H, W] or float [-1, 1] -> float64 [N, D] in 0..255."""
    if images.dtype == torch.uint8:
        x = images.double()
    else:
        x = (images.detach().double().clamp(-1, 1) + 1) * 127.5
    return x.flatten(1)


def mean_pairwise_rms(images: torch.Tensor) -> float:
    """Mean over all pairs i != j of the RMS difference between image i and image j."""
    x = _flat(images)  # [N, D]
    d2 = torch.cdist(x, x).pow(2) / x.shape[1]  # [N, N]
    n = x.shape[0]
    return float(d2.clamp_min(0).sqrt().sum() / (n * (n - 1)))


def nearest_neighbour_rms(queries: torch.Tensor, reference: torch.Tensor, *, chunk: int = 2048) -> float:
    """Mean over queries of the RMS difference to the nearest reference image."""
    q = _flat(queries)  # [Q, D]
    best = torch.full((q.shape[0],), float("inf"), dtype=torch.float64)
    for start in range(0, reference.shape[0], chunk):
        r = _flat(reference[start : start + chunk])  # [C, D]
        best = torch.minimum(best, torch.cdist(q, r).min(1).values)
    return float((best.pow(2) / q.shape[1]).sqrt().mean())
