"""How faithful a transferred edit is on the photo: the unpainted part kept, the painted part recoloured (numpy/OpenCV).

A recolouring of the sky should recolour the sky and leave the ground alone. Given the photo, the transferred
result and the session's strokes rasterised at the photo's resolution (``demo.tools.brushes.rasterise``):

- **unpainted**: outside the stroke mask dilated by ``dilate`` pixels. There we want no change: mean absolute
  change (0..255, averaged over pixels and channels) and SSIM (Wang et al. 2004: Gaussian window sigma 1.5,
  K1 = 0.01, K2 = 0.03, per channel then averaged) between photo and result, averaged over the region;
- **painted**: where a stroke covers at least half a pixel. There we want the photo to move toward the stroke's
  colour: ``progress`` is the mean over those pixels of |photo - stroke| - |result - stroke| (Euclidean RGB
  distance, 0..255 units), i.e. how many levels closer to the asked colour the result came.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

SSIM_SIGMA = 1.5
SSIM_C1 = (0.01 * 255) ** 2
SSIM_C2 = (0.03 * 255) ** 2


@dataclass(frozen=True, kw_only=True)
class StrokeRegions:
    """Stroke layers at the photo's resolution: where painted, with what colour, and what counts as unpainted."""

    painted: np.ndarray  # [H, W] bool: stroke coverage >= 0.5
    colour: np.ndarray  # [H, W, 3] float32 in 0..255: the stroke colour asked for there
    unpainted: np.ndarray  # [H, W] bool: outside the stroke mask dilated by ``dilate`` pixels


def stroke_regions(colour: np.ndarray, coverage: np.ndarray, *, dilate: int) -> StrokeRegions:
    """From a canvas's colour layer ([H, W, 3] in 0..1) and its stroke coverage ([H, W] in 0..1)."""
    touched = (coverage > 0).astype(np.uint8)
    if dilate > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilate + 1,) * 2)
        touched = cv2.dilate(touched, kernel)
    return StrokeRegions(painted=coverage >= 0.5, colour=(colour * 255.0).astype(np.float32), unpainted=touched == 0)


def ssim_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-pixel SSIM [H, W] of two [H, W, 3] uint8 images, averaged over channels."""

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (0, 0), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    x, y = a.astype(np.float32), b.astype(np.float32)
    mean_x, mean_y = blur(x), blur(y)  # [H, W, 3]
    var_x = blur(x * x) - mean_x**2
    var_y = blur(y * y) - mean_y**2
    cov = blur(x * y) - mean_x * mean_y
    ssim = ((2 * mean_x * mean_y + SSIM_C1) * (2 * cov + SSIM_C2)) / (
        (mean_x**2 + mean_y**2 + SSIM_C1) * (var_x + var_y + SSIM_C2))
    return ssim.mean(-1)  # [H, W]


def faithfulness(photo: np.ndarray, result: np.ndarray, regions: StrokeRegions) -> dict[str, float]:
    """unpainted_ssim, unpainted_mean_change (0..255), painted_progress (0..255 levels toward the stroke colour)."""
    original, edited = photo.astype(np.float32), result.astype(np.float32)
    change = np.abs(edited - original).mean(-1)  # [H, W]
    keep = regions.unpainted
    before = np.linalg.norm(original - regions.colour, axis=-1)[regions.painted]
    after = np.linalg.norm(edited - regions.colour, axis=-1)[regions.painted]
    return {
        "unpainted_ssim": float(ssim_map(photo, result)[keep].mean()) if keep.any() else float("nan"),
        "unpainted_mean_change": float(change[keep].mean()) if keep.any() else float("nan"),
        "painted_progress": float((before - after).mean()) if regions.painted.any() else float("nan"),
    }


def summarise(rows: list[dict], *, labels: tuple[str, ...] = ("before", "after")) -> dict:
    """Median and worst over photos, per resampler and region (and over all regions), for each label.

    Each row has ``{label}_{unpainted_ssim, unpainted_mean_change, painted_progress}``; the painted figure is
    summarised as the ratio label / ``labels[0]`` per edit (the target: >= 0.95).
    """
    summary: dict[str, dict] = {}
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(f"{row['resampler']}/all", []).append(row)
        groups.setdefault(f"{row['resampler']}/{row['region']}", []).append(row)
    for name, group in sorted(groups.items()):
        entry: dict[str, float | int] = {"edits": len(group)}
        for label in labels:
            ssim = np.array([r[f"{label}_unpainted_ssim"] for r in group])
            change = np.array([r[f"{label}_unpainted_mean_change"] for r in group])
            entry[f"{label}_ssim_median"] = round(float(np.median(ssim)), 4)
            entry[f"{label}_ssim_worst"] = round(float(ssim.min()), 4)
            entry[f"{label}_change_median"] = round(float(np.median(change)), 2)
            entry[f"{label}_change_worst"] = round(float(change.max()), 2)
            entry[f"{label}_progress_median"] = round(float(np.median([r[f"{label}_painted_progress"] for r in group])), 2)
            entry[f"{label}_passing"] = int(((ssim >= 0.98) & (change <= 5.0)).sum())
        for label in labels[1:]:
            base = f"{labels[0]}_painted_progress"
            ratio = np.array([r[f"{label}_painted_progress"] / r[base] if r[base] > 0 else np.nan for r in group])
            finite = np.isfinite(ratio).any()
            entry[f"{label}_progress_ratio_median"] = round(float(np.nanmedian(ratio)), 3) if finite else float("nan")
            entry[f"{label}_progress_ratio_worst"] = round(float(np.nanmin(ratio)), 3) if finite else float("nan")
        summary[name] = entry
    return summary
