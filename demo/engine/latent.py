"""The latent parameterisation shared by the solver and photo projection.

Adam moves an unconstrained w; z = tanh(w) keeps a uniform[-1, 1] prior's latents in its support,
and z = w for a normal prior.
"""

from __future__ import annotations

import torch


def to_param(z: torch.Tensor, prior: str) -> torch.Tensor:
    """z -> w (the inverse of ``to_latent``, clamped away from tanh's asymptotes)."""
    return torch.atanh(z.clamp(-0.999, 0.999)) if prior == "uniform" else z


def to_latent(w: torch.Tensor, prior: str) -> torch.Tensor:
    """w -> z in the prior's support."""
    return torch.tanh(w) if prior == "uniform" else w


def sample_prior(prior: str, n: int, nz: int, generator: torch.Generator) -> torch.Tensor:
    """[n, nz] draws from the prior, on the CPU."""
    if prior == "uniform":
        return torch.rand(n, nz, generator=generator) * 2 - 1
    return torch.randn(n, nz, generator=generator)
