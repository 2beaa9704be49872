"""Carrying on after CUDA runs out of memory: half the candidates, the best ones, in a new solver.

The kept latents wait on the CPU while the old batch is freed. A solver has no public way yet to
take K given latents, so ``put_into`` restarts it at them and sets their anchors (z0) after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from demo.engine.latent import to_latent


@dataclass(frozen=True)
class KeptCandidates:
    model: object  # the LoadedModel
    config: object  # the SolverConfig
    z: torch.Tensor  # [keep, nz] on the CPU
    z0: torch.Tensor  # [keep, nz] on the CPU
    anchor: str  # free, fix or photo (Solver.anchor)
    steps_done: int

    @property
    def candidates(self) -> int:
        return int(self.z.shape[0])

    def put_into(self, solver) -> None:
        solver._restart(self.z.to(solver.device))
        solver.z0 = self.z0.to(solver.device)
        solver.anchor, solver.steps_done = self.anchor, self.steps_done


def keep_best(solver, order: np.ndarray) -> KeptCandidates:
    """The best half (at least one) of ``solver``'s candidates by ``order`` (slots, best first), on the CPU."""
    keep = max(1, solver.candidates // 2)
    best = torch.as_tensor(np.asarray(order[:keep]), dtype=torch.long)
    with torch.no_grad():
        z = to_latent(solver.w.detach()[best.to(solver.w.device)], solver.model.card.prior).cpu()  # [keep, nz]
        z0 = solver.z0[best.to(solver.z0.device)].cpu()  # [keep, nz]
    return KeptCandidates(model=solver.model, config=solver.config, z=z, z0=z0, anchor=solver.anchor,
                          steps_done=solver.steps_done)
