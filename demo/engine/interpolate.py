"""The morph z0 -> z1: latent interpolation, rendered through G as one batch (torch only).

``slerp`` here interpolates the *direction* along the great circle and the *norm* linearly, so the
norm along the path always lies between the endpoints' norms (plain lerp shrinks it in the middle,
towards the low-density centre of a Gaussian prior). For a uniform prior (a box) ``lerp`` stays inside
the box and is the default; for a normal prior ``slerp`` is.
"""

from __future__ import annotations

import numpy as np
import torch

from demo.engine.networks import Generator
from demo.engine.projection import to_uint8

INTERPOLATIONS = ("lerp", "slerp")
DEFAULT_FRAMES = 16  # iGAN's morph length


def default_method(prior: str) -> str:
    """lerp for a uniform (box) prior, slerp for a normal prior."""
    return "lerp" if prior == "uniform" else "slerp"


def _steps(z0: torch.Tensor, frames: int) -> torch.Tensor:
    if frames < 2:
        raise ValueError(f"a morph needs at least 2 frames, got {frames}")
    return torch.linspace(0.0, 1.0, frames, dtype=z0.dtype, device=z0.device)[:, None]  # [N, 1]


def lerp(z0: torch.Tensor, z1: torch.Tensor, *, frames: int = DEFAULT_FRAMES) -> torch.Tensor:
    """Straight line: [nz], [nz] -> [N, nz]; row 0 is z0, row N-1 is z1."""
    t = _steps(z0, frames)  # [N, 1]
    return torch.lerp(z0[None], z1[None], t)  # [N, nz]


def slerp(z0: torch.Tensor, z1: torch.Tensor, *, frames: int = DEFAULT_FRAMES, eps: float = 1e-7) -> torch.Tensor:
    """Great-circle direction, linear norm: [nz], [nz] -> [N, nz]; row 0 is z0, row N-1 is z1.

    Falls back to lerp of the directions when they are (anti)parallel or a norm is zero.
    """
    t = _steps(z0, frames)  # [N, 1]
    n0, n1 = z0.norm(), z1.norm()
    if n0 < eps or n1 < eps:
        return lerp(z0, z1, frames=frames)
    u0, u1 = z0 / n0, z1 / n1  # [nz]
    omega = torch.arccos(torch.clamp((u0 * u1).sum(), -1.0, 1.0))
    if torch.sin(omega) < 1e-4:
        return lerp(z0, z1, frames=frames)
    # Weights of the two unit directions along the arc.
    w0 = torch.sin((1.0 - t) * omega) / torch.sin(omega)  # [N, 1]
    w1 = torch.sin(t * omega) / torch.sin(omega)  # [N, 1]
    direction = w0 * u0[None] + w1 * u1[None]  # [N, nz], unit norm
    path = torch.lerp(n0, n1, t) * direction  # [N, nz]
    # Make the endpoints exact (the arc formula is only exact up to rounding).
    path[0], path[-1] = z0, z1
    return path


def interpolate(z0: torch.Tensor, z1: torch.Tensor, *, frames: int = DEFAULT_FRAMES, method: str = "slerp") -> torch.Tensor:
    """[nz], [nz] -> [N, nz] with ``method`` in INTERPOLATIONS."""
    if method == "lerp":
        return lerp(z0, z1, frames=frames)
    if method == "slerp":
        return slerp(z0, z1, frames=frames)
    raise ValueError(f"interpolation must be one of {INTERPOLATIONS}, got {method!r}")


@torch.no_grad()
def generate_morph(G: Generator, z0: torch.Tensor, z1: torch.Tensor, *, frames: int = DEFAULT_FRAMES,
                   method: str = "slerp") -> torch.Tensor:
    """G along the path, one batch: [nz], [nz] -> [N, C, R, R] in [-1, 1]."""
    path = interpolate(z0, z1, frames=frames, method=method)  # [N, nz]
    return G(path)  # [N, C, R, R]


def render_morph(G: Generator, z0: np.ndarray, z1: np.ndarray, *, frames: int = DEFAULT_FRAMES,
                 prior: str = "normal", method: str | None = None) -> np.ndarray:
    """numpy in, numpy out: z0, z1 [nz] -> frames [N, R, R, 3] uint8 (method: default for the prior)."""
    device = next(G.parameters()).device
    to_latent = lambda z: torch.as_tensor(np.asarray(z, dtype=np.float32).reshape(-1), device=device)
    images = generate_morph(G, to_latent(z0), to_latent(z1), frames=frames, method=method or default_method(prior))
    return to_uint8(images)  # [N, R, R, 3]
