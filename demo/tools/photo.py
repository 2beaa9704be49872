"""Photo loading: any common image (PNG, JPEG, WebP; RGB, RGBA, grey, 16-bit; EXIF orientation) to uint8 RGB."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from demo.errors import UserError


def load_photo(path: str | Path) -> np.ndarray:
    """[H, W, 3] uint8 RGB at full resolution, EXIF orientation applied, alpha composited on white."""
    path = Path(path)
    try:
        with Image.open(path) as image:
            image = ImageOps.exif_transpose(image)
            return to_rgb8(image)
    except FileNotFoundError:
        raise UserError(f"{path}: photo not found") from None
    except UnidentifiedImageError:
        raise UserError(f"{path}: not an image this program can read (PNG, JPEG or WebP expected)") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: cannot read the image ({exc})") from None


def to_rgb8(image: Image.Image) -> np.ndarray:
    """Any PIL mode -> [H, W, 3] uint8 RGB. 16-bit and float images are scaled, not clipped."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        gray = np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))


def centre_crop_resize(photo: np.ndarray, size: int) -> np.ndarray:
    """The largest centred square, resized to ``size`` x ``size`` (area filter when shrinking)."""
    import cv2

    h, w = photo.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = photo[top : top + side, left : left + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(square, (size, size), interpolation=interpolation)
