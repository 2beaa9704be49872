"""Held-out procedural scenes: seeds that no training set made with ``--seed 0`` ever uses.

Shared by the trainers' figures (the encoder's round trip) and the export's (FD8, nearest neighbours), so
that every figure on unseen data draws the same scenes.
"""

from __future__ import annotations

import functools

import torch

from demo.data.landscapes import LandscapeConfig, render_batch

HELDOUT_SPLIT_SEED = 1  # data made with --seed 0 never uses these seeds


@functools.lru_cache(maxsize=4)
def heldout_images(count: int, *, resolution: int, first: int = 0) -> torch.Tensor:
    """Procedural images from seeds the training set never used (10,000,000 + first + i), uint8 [count, 3, R, R].

    Cached: several figures of one export compare against the same scenes (callers must not modify it)."""
    seeds = [HELDOUT_SPLIT_SEED * 10_000_000 + first + i for i in range(count)]
    array = render_batch(seeds, config=LandscapeConfig(size=resolution))
    return torch.from_numpy(array).permute(0, 3, 1, 2).contiguous()
