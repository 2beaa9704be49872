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


def frechet_distance_lowres(a: torch.Tensor, b: torch.Tensor, *, size: int = 8) -> float:
    """Fréchet distance between two image sets, on area-downsampled size x size colour images in 0..1.

    An FID without a pretrained network: it compares the layout and colour statistics (mean and
    covariance over size*size*3 dimensions) of the two sets, so it sees missing modes (no night
    skies, no lakes) and wrong colours, though not fine texture.
    """
    fa, fb = (_lowres(x, size) for x in (a, b))  # [N, size*size*3]
    mu_a, mu_b = fa.mean(0), fb.mean(0)
    cov_a, cov_b = torch.cov(fa.T), torch.cov(fb.T)
    # tr(sqrt(A B)) = sum of sqrt(eig(sqrt(A) B sqrt(A))), all of them real and >= 0.
    vals, vecs = torch.linalg.eigh(cov_a)
    root_a = vecs @ torch.diag(vals.clamp_min(0).sqrt()) @ vecs.T
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp_min(0).sqrt().sum()
    return float((mu_a - mu_b).pow(2).sum() + torch.trace(cov_a) + torch.trace(cov_b) - 2 * cross)


def _lowres(images: torch.Tensor, size: int) -> torch.Tensor:
    x = _flat(images).reshape(images.shape) / 255.0  # [N, 3, H, W] in 0..1
    return torch.nn.functional.adaptive_avg_pool2d(x, size).flatten(1)  # [N, 3*size*size]
