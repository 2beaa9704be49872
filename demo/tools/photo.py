"""Photo loading: any common image to [H, W, 3] uint8 RGB, within a memory budget, downscaled to what is needed.

Reads PNG, JPEG, WebP, GIF (first frame), TIFF and BMP; RGB, RGBA, grey, grey + alpha, palette, CMYK and
16-bit; EXIF orientation honoured. Huge images open by downscaling while decoding, so that opening a
20000x20000 photo stays under 1 GB: JPEG is decoded at 1/2, 1/4 or 1/8 scale (libjpeg's DCT scaling,
``Image.draft``); other formats are decoded whole, so one too large for ``FULL_DECODE_BUDGET`` is refused
with a message that names the limit. Every failure is a ``UserError`` with one line naming the file.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image, JpegImagePlugin, UnidentifiedImageError

from demo.errors import UserError

MAX_SOURCE_PIXELS = 20000 * 20000  # the largest image opened at all (by downscaling)
DEFAULT_MAX_SIDE = 8192  # the longer side of what load_photo returns, unless the caller asks otherwise
FULL_DECODE_BUDGET = 640 * 2**20  # bytes a full-size decode may take (formats without scaled decoding)
READABLE = "PNG, JPEG, WebP, GIF, TIFF or BMP"

# EXIF orientation tag (0x0112) -> the transpose that shows the image upright.
_ORIENTATION = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class Photo:
    pixels: np.ndarray  # [H, W, 3] uint8 RGB, upright, downscaled as asked
    original_size: tuple[int, int]  # (width, height) of the file's image, upright


def load_photo(path: str | Path, *, max_side: int | None = DEFAULT_MAX_SIDE, min_side: int | None = None) -> np.ndarray:
    """[H, W, 3] uint8 RGB, EXIF orientation applied, alpha composited on white (see ``open_photo``)."""
    return open_photo(path, max_side=max_side, min_side=min_side).pixels


def open_photo(path: str | Path, *, max_side: int | None = DEFAULT_MAX_SIDE, min_side: int | None = None) -> Photo:
    """Decode ``path``, downscaled (area filter) so that its longer side is at most ``max_side`` (e.g. the GL
    texture limit; None: no limit) and, when ``min_side`` is given (e.g. the model's resolution for
    projection), so that its shorter side is no larger than needed for it. Never upscales.

    Raises UserError naming the file and the reason (missing, empty, not an image, truncated, too large).
    """
    for name, side in (("max_side", max_side), ("min_side", min_side)):
        if side is not None and side < 1:
            raise ValueError(f"{name} must be >= 1 or None, got {side}")
    path = Path(path)
    try:
        with path.open("rb") as handle, _open_image(handle, path) as image:
            return _decode(image, path, max_side=max_side, min_side=min_side)
    except FileNotFoundError:
        raise UserError(f"{path}: photo not found") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a folder, not a photo") from None
    except UnidentifiedImageError:
        empty = path.is_file() and path.stat().st_size == 0
        reason = "the file is empty" if empty else "not an image this program can read"
        raise UserError(f"{path}: {reason} ({READABLE} expected)") from None
    except Image.DecompressionBombError as exc:
        raise UserError(f"{path}: image too large to open ({exc})") from None
    except (OSError, ValueError, SyntaxError, EOFError, struct.error, MemoryError) as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise UserError(f"{path}: cannot read the image; it is corrupt or truncated ({reason})") from None


def _open_image(handle: BinaryIO, path: Path) -> Image.Image:
    """Open lazily (header only). Pillow's own size guard is replaced by ours (``MAX_SOURCE_PIXELS``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(handle)
        except Image.DecompressionBombError:
            pass
    # Pillow refused on size alone; find the plugin that reads this header, as Image.open does, without its guard.
    Image.init()
    handle.seek(0)
    prefix = handle.read(16)
    for name in Image.ID:
        factory, accept = Image.OPEN[name]
        if accept is not None and accept(prefix) is not True:
            continue
        handle.seek(0)
        try:
            return factory(handle, str(path))
        except (SyntaxError, IndexError, TypeError, struct.error):
            continue
    raise UnidentifiedImageError(str(path))


def _decode(image: Image.Image, path: Path, *, max_side: int | None, min_side: int | None) -> Photo:
    width, height = image.size
    if width < 1 or height < 1:
        raise UserError(f"{path}: the image is empty ({width}x{height})")
    if width * height > MAX_SOURCE_PIXELS:
        raise UserError(f"{path}: {width}x{height} is too large to open: the limit is "
                        f"{MAX_SOURCE_PIXELS / 1e6:.0f} megapixels (e.g. 20000x20000); scale it down first")
    orientation = _orientation(image)
    size = target_size(width, height, max_side=max_side, min_side=min_side)
    if isinstance(image, JpegImagePlugin.JpegImageFile):  # JPEG, and MPO from cameras
        wanted = _affordable_draft(image, size)
        if wanted != (width, height):
            image.draft(image.mode, wanted)  # libjpeg decodes at 1/2, 1/4 or 1/8 scale, never below ``wanted``
            size = (min(size[0], image.size[0]), min(size[1], image.size[1]))
    _check_budget(image, path, source_size=(width, height))
    image.load()
    scaled = _downscale(_flatten_palette(image), size)
    if scaled is not image:
        image.close()  # Free the full-size decode before converting the scaled copy.
    transpose = _ORIENTATION.get(orientation)
    if transpose is not None:
        scaled = scaled.transpose(transpose)
    upright = (height, width) if transpose is not None and orientation >= 5 else (width, height)
    return Photo(pixels=to_rgb8(scaled), original_size=upright)


def _affordable_draft(image: JpegImagePlugin.JpegImageFile, size: tuple[int, int]) -> tuple[int, int]:
    """``size``, or the largest DCT-scaled size (1/1 .. 1/8) a baseline JPEG decodes to within the budget
    when ``size``'s scale would not fit (e.g. a 16384 px texture limit asked of a 20000 px photo)."""
    width, height = image.size
    if image.info.get("progressive") or image.info.get("progression"):
        return size  # the coefficients take full-size memory at any scale: _check_budget decides
    for denominator in (1, 2, 4, 8):
        scaled = (-(-width // denominator), -(-height // denominator))
        if scaled[0] * scaled[1] * 4 <= FULL_DECODE_BUDGET:
            return size if scaled[0] >= size[0] and scaled[1] >= size[1] else scaled
    return size


def target_size(width: int, height: int, *, max_side: int | None, min_side: int | None) -> tuple[int, int]:
    """The (width, height) to decode to: the longer side at most ``max_side``, the shorter side no larger
    than ``min_side`` needs; never larger than the image, never below 1 pixel."""
    scale = 1.0
    if max_side is not None:
        scale = min(scale, max_side / max(width, height))
    if min_side is not None:
        scale = min(scale, min_side / min(width, height))
    if scale >= 1.0:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _orientation(image: Image.Image) -> int:
    try:
        return int(image.getexif().get(0x0112, 1))
    except (TypeError, ValueError, SyntaxError, struct.error, OSError):
        return 1  # Unreadable EXIF: show the image as stored.


def _check_budget(image: Image.Image, path: Path, *, source_size: tuple[int, int]) -> None:
    """Refuse, naming the limit, a decode that would take more than ``FULL_DECODE_BUDGET`` bytes."""
    width, height = image.size
    # Pillow keeps 1 byte a pixel for 1/L/P, 2 for 16-bit grey and 4 for the rest; palette images
    # are expanded to RGBA before scaling, and progressive JPEGs keep every DCT coefficient (2 bytes
    # each, up to 3 components at full size) until the last scan.
    per_pixel = {"1": 1, "L": 1, "P": 5, "I;16": 2, "I;16L": 2, "I;16B": 2, "I;16N": 2}.get(image.mode, 4)
    needed = width * height * per_pixel
    is_jpeg = isinstance(image, JpegImagePlugin.JpegImageFile)
    if is_jpeg and (image.info.get("progressive") or image.info.get("progression")):
        needed += source_size[0] * source_size[1] * 2 * len(image.getbands())
    if needed > FULL_DECODE_BUDGET:
        megapixels = FULL_DECODE_BUDGET / (needed / (source_size[0] * source_size[1])) / 1e6  # at this many bytes a pixel
        progressive = is_jpeg and (image.info.get("progressive") or image.info.get("progression"))
        kind = "progressive JPEG" if progressive else f"{image.format or 'this'} image"
        raise UserError(
            f"{path}: a {source_size[0]}x{source_size[1]} {kind} needs {needed / 2**20:.0f} MB to decode, over the "
            f"{FULL_DECODE_BUDGET / 2**20:.0f} MB limit (about {megapixels:.0f} megapixels in this format); "
            "baseline JPEGs up to 20000x20000 open by downscaling: save it as one, or scale it down first")


def _flatten_palette(image: Image.Image) -> Image.Image:
    """Palette and 1-bit images become RGB(A)/L, so scaling averages colours, not palette indices."""
    if image.mode == "P":
        return image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode == "PA":
        return image.convert("RGBA")
    if image.mode == "1":
        return image.convert("L")
    return image


def _downscale(image: Image.Image, size: tuple[int, int], *, band_bytes: int = 16 * 2**20) -> Image.Image:
    """Area-average ``image`` down to ``size`` (a no-op when it is that size already).

    Works in bands of output rows, each from exactly its source rows, so the scaler's full-width
    intermediate (output width x source height) never exists at once; the result is the same.
    """
    if image.size == size:
        return image
    if image.mode not in ("L", "LA", "RGB", "RGBA", "CMYK", "I", "F", "I;16", "I;16L", "I;16B"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    width, height = image.size
    out_width, out_height = size
    rows_per_band = max(1, band_bytes // (4 * out_width) * out_height // height)
    step = height / out_height  # source rows per output row
    scaled = Image.new(image.mode, size)
    for top in range(0, out_height, rows_per_band):
        bottom = min(out_height, top + rows_per_band)
        band = image.resize((out_width, bottom - top), Image.Resampling.BOX, box=(0, top * step, width, bottom * step))
        scaled.paste(band, (0, top))
    return scaled


def to_rgb8(image: Image.Image) -> np.ndarray:
    """Any PIL mode -> [H, W, 3] uint8 RGB. 16-bit and float images are scaled, not clipped."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max(initial=0) > 255 else 255.0
        gray = np.clip(array / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(gray[..., None], 3, axis=2)
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image if image.mode == "RGB" else image.convert("RGB"))


def centre_crop_resize(photo: np.ndarray, size: int) -> np.ndarray:
    """The largest centred square, resized to ``size`` x ``size`` (area filter when shrinking)."""
    import cv2

    h, w = photo.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = photo[top : top + side, left : left + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(square, (size, size), interpolation=interpolation)
