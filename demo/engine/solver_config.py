"""What the constrained solver is asked and what it answers: its settings (``SolverConfig``), the default
number of candidates per device, and a ranking of the candidates (``Ranking``, numpy only)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from demo.engine.compiled import STEP_MODES


@dataclass(frozen=True, kw_only=True)
class SolverConfig:
    lr: float = 0.1  # iGAN's Adam rate on the tanh-parameterised latent
    betas: tuple[float, float] = (0.9, 0.999)
    color_weight: float = 1.0
    sketch_weight: float = 0.2  # iGAN's weight on HOG features
    warp_weight: float = 1.0
    prior_weight: float = 5.0  # lambda_S once anchored by a fix
    # lambda_S around a photo's projection: the edit reaches the photo only through the painted region
    # (demo/transfer), so G may move further toward the strokes there than on a canvas of its own.
    photo_prior_weight: float = 1.5
    # lambda_S from a random start, before any fix. A little keeps each candidate near the natural sample it
    # started from: without it, strokes alone pull the latents to wherever G paints flat bands of their colours
    # (bench edits, validation seeds: realism 1.93 -> 1.44, colour error 9.3 -> 11.0, recall unchanged; the
    # source scenes themselves lie 21 from their strokes). docs/edits.md.
    free_prior_weight: float = 0.03
    realism_weight: float = 0.0  # lambda_D; needs a discriminator in the model file
    # Holds mean(z^2) within what the prior draws (losses.typical_term): pushed by strokes alone, latents run to
    # the box's corners, where G draws checkerboards and flat colour.
    typical_weight: float = 0.0
    # > 0: show the candidate D finds most natural among those whose loss is within this fraction of the best (D
    # outside the steps, scored every few steps: solver_pick.py). A photo's edit, and a model file without a
    # discriminator, keep the plain order. Off: on bench edits it did not carry from validation to held-out
    # scenes (docs/edits.md).
    realism_pick: float = 0.0
    hog_orientations: int = 8
    hog_cell: int = 4
    start_jitter: float = 0.05  # spread of candidates around an anchored start
    # When the colour strokes change, this many of the worst candidates restart from E's reading of the painted
    # best (solver_snap.py); from a random start only, not around a photo or after a fix. With the free prior,
    # held-out bench edits: realism 1.27 -> 1.21, colour error 10.55 -> 9.47 (docs/edits.md).
    encoder_starts: int = 4
    step_mode: str = "eager"  # eager | compile | reduce-overhead | graphs (CUDA), see engine/compiled.py

    def __post_init__(self) -> None:
        if self.step_mode not in STEP_MODES:
            raise ValueError(f"step_mode must be one of {', '.join(STEP_MODES)}, got {self.step_mode!r}")


def default_candidates(device: torch.device | str) -> int:
    """iGAN used 64 candidates on a GPU; 8 keep a 2-core CPU interactive."""
    return 64 if torch.device(device).type == "cuda" else 8


@dataclass(frozen=True)
class Ranking:
    """Candidates rendered at their current latents and sorted by loss (best first). numpy only."""

    order: np.ndarray  # [K] slot ids, best first
    loss: np.ndarray  # [K] total loss per slot
    terms: dict[str, np.ndarray]  # term -> [K] per slot (unweighted)
    images: np.ndarray  # [K, R, R, 3] uint8 per slot
    z: np.ndarray  # [K, nz] per slot
    z0: np.ndarray  # [K, nz] per slot
    color_rmse: np.ndarray  # [K] RMS color error over color-stroke pixels, 0..255 units
    sketch_error: np.ndarray  # [K] HOG sketch error (unweighted)
