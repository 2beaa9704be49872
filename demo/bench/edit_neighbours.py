"""What a prior over scenes could recover from the strokes alone (numpy only).

For each edited scene, the training scenes whose pixels under its strokes come closest to the strokes'
colours, and how far those are from the scene over all its pixels. ``bench edits --neighbours N`` draws N
training scenes (generator seeds 0..N-1; the bench's scenes are held out) and reports, beside recall and the
floor, medians over the scenes:

- ``nearest``: RMSE to the scene of the one training scene that matches its strokes best;
- ``mean_of_nearest``: of the mean of the ``k`` best matches: the RMSE-optimal guess from the strokes, a blur,
  so it says how much of the scene the strokes pin down, not what a picture should look like;
- ``best_in_pool``: of the training scene closest to the scene over all its pixels (it sees the whole scene:
  how close the pool comes at all).
"""

from __future__ import annotations

import numpy as np

from demo.tools.brushes import Stroke, rasterise


def stroke_layers(plans, side: int) -> tuple[np.ndarray, np.ndarray]:
    """(mask [side, side] bool, colour [side, side, 3] in 0..255) of a scene's planned colour strokes."""
    strokes = [Stroke(tool="color", color=plan.color, width=plan.width, points=tuple((x, y, 1.0) for x, y in plan.points))
               for plan in plans]
    canvas = rasterise(strokes, side)
    return canvas.color_mask >= 0.5, canvas.color * 255.0


def rmse_to(pool: np.ndarray, image: np.ndarray) -> np.ndarray:
    """[N] RMSE of each pool image [N, S, S, 3] to ``image`` [S, S, 3] over all pixels."""
    return np.sqrt(((pool - image[None]) ** 2).mean(axis=(1, 2, 3)))


def neighbour_recall(pool: np.ndarray, scene: np.ndarray, plans, *, k: int = 16) -> dict[str, float]:
    """The three figures above for one scene; ``pool`` [N, S, S, 3] float32 and ``scene`` [S, S, 3] in 0..255."""
    mask, colour = stroke_layers(plans, scene.shape[0])
    match = ((pool[:, mask] - colour[mask][None]) ** 2).mean(axis=(1, 2))  # [N] over the painted pixels
    order = np.argsort(match, kind="stable")
    full = rmse_to(pool, scene)  # [N]
    mean_guess = pool[order[:k]].mean(0)  # [S, S, 3]
    return {"nearest": float(full[order[0]]), "mean_of_nearest": float(rmse_to(mean_guess[None], scene)[0]),
            "best_in_pool": float(full.min())}
