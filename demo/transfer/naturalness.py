"""How natural a transferred colour edit is: does the painted region change, all of it, and nothing else? (numpy/OpenCV)

Issue 31's measures, given the photo, the result, the painted colour and the true regions (a label map, or a
border traced by hand):

- **moved**: per pixel, how many levels (Euclidean RGB, 0..255) the result came closer to the painted colour
  than the photo was;
- **changed**: moved by at least ``share`` (30%) of what the painted region's most-moved tenth moved (the mean
  of its top 10%);
- **coverage**: the share of the painted region that changed; **iou**: of the changed area with the painted
  region (pixels in ``ignore`` count for neither: a water surface that may follow the sky it reflects, or a
  band along a border traced by hand);
- **progress**: the share of the colour distance to the painted colour that the edit closed over the whole
  painted region (mean distance before minus after, over mean distance before);
- **structure**: SSIM's contrast-structure term (Wang et al. 2004; Gaussian window sigma 1.5, K2 = 0.03) of
  result against photo, per channel, averaged over the painted region: 1 where the texture is kept;
- **other_change**: the mean absolute change (0..255) over the other regions (outside the painted one and
  ``ignore``).
"""

from __future__ import annotations

import cv2
import numpy as np

from demo.transfer.faithfulness import SSIM_C2, SSIM_SIGMA

TOP_SHARE = 0.1


def contrast_structure(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """[H, W]: SSIM's contrast-structure term of two [H, W, 3] uint8 images, averaged over channels."""

    def blur(x: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(x, (0, 0), SSIM_SIGMA, borderType=cv2.BORDER_REFLECT)

    x, y = a.astype(np.float32), b.astype(np.float32)
    mean_x, mean_y = blur(x), blur(y)
    var_x = np.maximum(blur(x * x) - mean_x**2, 0.0)
    var_y = np.maximum(blur(y * y) - mean_y**2, 0.0)
    cov = blur(x * y) - mean_x * mean_y
    return ((2 * cov + SSIM_C2) / (var_x + var_y + SSIM_C2)).mean(-1)


def naturalness(photo: np.ndarray, result: np.ndarray, colour, region: np.ndarray, *, ignore: np.ndarray | None = None,
                share: float = 0.3) -> dict[str, float]:
    """The measures above; ``colour`` RGB 0..255, ``region`` [H, W] bool (the painted region), ``ignore`` [H, W] bool."""
    ignore = np.zeros(region.shape, bool) if ignore is None else ignore
    painted = region & ~ignore
    other = ~region & ~ignore
    original, edited = photo.astype(np.float32), result.astype(np.float32)
    target = np.asarray(colour, np.float32)
    distance_before = np.linalg.norm(original - target, axis=-1)  # [H, W]
    distance_after = np.linalg.norm(edited - target, axis=-1)
    moved = distance_before - distance_after  # [H, W] levels closer to the colour
    inside = np.sort(moved[painted])[::-1]
    top = float(inside[:max(1, int(len(inside) * TOP_SHARE))].mean()) if inside.size else 0.0
    changed = (moved >= share * top) & (top > 0) & ~ignore
    union = (changed | painted).sum()
    return {
        "iou": float((changed & painted).sum() / union) if union else float("nan"),
        "coverage": float(changed[painted].mean()) if painted.any() else float("nan"),
        "progress": float(moved[painted].mean() / max(distance_before[painted].mean(), 1e-6)) if painted.any() else float("nan"),
        "structure": float(contrast_structure(photo, result)[painted].mean()) if painted.any() else float("nan"),
        "other_change": float(np.abs(edited - original).mean(-1)[other].mean()) if other.any() else 0.0,
        "top_tenth_moved": top,
    }


def border_band(mask: np.ndarray, *, width: int) -> np.ndarray:
    """[H, W] bool: within ``width`` pixels of the border of ``mask`` (for borders traced by hand)."""
    if width <= 0:
        return np.zeros(mask.shape, bool)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1,) * 2)
    inside = mask.astype(np.uint8)
    return (cv2.dilate(inside, kernel) - cv2.erode(inside, kernel)) > 0
