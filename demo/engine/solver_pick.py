"""Which candidate is shown: the lowest loss, or with ``SolverConfig.realism_pick`` the one D finds most natural
among those whose loss is within that fraction of the best (D used outside the Adam steps, which stay D-free).

D's scores are taken again every ``every`` solver steps, and whenever the caller asks (an edit that has settled),
so that publishing a result after each step costs about one D forward per ``every`` steps, not per step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch


class NaturalPick:
    def __init__(self, *, tolerance: float, every: int = 8):
        self.tolerance = tolerance
        self.every = every
        self._scored: tuple[int, np.ndarray] | None = None  # (solver steps when scored, D's logits [K])

    def forget(self) -> None:
        """A new start: the scores belong to latents that are gone."""
        self._scored = None

    def order(self, loss: np.ndarray, *, steps: int, naturalness: Callable[[], np.ndarray], refresh: bool,
              by_loss_only: bool = False) -> np.ndarray:
        """Slots best first. ``loss`` [K]; ``naturalness()`` -> D's logits [K] for the current images;
        ``by_loss_only``: this edit keeps the plain order (a photo's: its edit is carried onto the photo)."""
        order = np.argsort(loss, kind="stable")
        if by_loss_only or self.tolerance <= 0 or not 0 < loss[order[0]] < np.inf:  # nothing asked: the start as it was
            return order
        if refresh or self._scored is None or not 0 <= steps - self._scored[0] < self.every:
            self._scored = (steps, naturalness())
        logits = self._scored[1]
        near = loss <= loss[order[0]] * (1 + self.tolerance)
        return np.lexsort((loss, -logits * near, ~near))  # near first, D's favourite leading; the rest by loss


def discriminator_logits(D: torch.nn.Module, images: torch.Tensor) -> np.ndarray:
    """D's realness logits [K] of images [K, C, R, R] in [-1, 1]."""
    with torch.no_grad():
        return D(images.detach()).flatten().cpu().numpy()
