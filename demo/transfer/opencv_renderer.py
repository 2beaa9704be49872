"""The reference renderer: the shader's maths with cv2.resize, cv2.remap and cv2 arithmetic, on the CPU.

For tests, the benchmark, and machines without EGL (``transfer --renderer opencv``).
"""

from __future__ import annotations

import cv2
import numpy as np

from demo.transfer.estimation import EditTransfer
from demo.transfer.photo_region import DEFAULT_FADE, Rect, check_photo


class OpenCVTransfer:
    """The reference path: the same maths with cv2.resize, cv2.remap and cv2 arithmetic, on the CPU.

    Works on contiguous float32 planes in 0..255 (planar cv2 arithmetic is about twice as fast as numpy
    on interleaved [H, W, 3, 4] views at 1024^2), so that the benchmark compares the shader with a fair CPU path.
    """

    def __init__(self, *, fade: float = DEFAULT_FADE) -> None:
        self.fade = fade
        self.photo: np.ndarray | None = None
        self.rect: Rect | None = None
        self._planes: list[np.ndarray] = []
        self._grid: tuple[np.ndarray, np.ndarray] | None = None
        self._fades: dict[tuple[int, int], np.ndarray | None] = {}

    def set_photo(self, photo: np.ndarray, *, rect: Rect | None = None) -> None:
        rect = check_photo(photo, rect)
        height, width = photo.shape[:2]
        if self.photo is None or self.photo.shape != photo.shape or rect != self.rect:
            self._grid = tuple(np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32)))
            self._fades = {}
        self.photo, self.rect = photo, rect
        self._planes = [plane.astype(np.float32) for plane in cv2.split(photo)]  # 3 x [H, W] in 0..255

    def upsample(self, field: np.ndarray) -> np.ndarray:
        """A model-resolution field [h, w, C] over the photo [H, W, C]: bilinear inside the rect, edge-clamped beyond."""
        x0, y0, rect_w, rect_h = self.rect
        height, width = self.photo.shape[:2]
        inside = cv2.resize(field, (rect_w, rect_h), interpolation=cv2.INTER_LINEAR)
        if (x0, y0, rect_w, rect_h) == (0, 0, width, height):
            return inside
        return cv2.copyMakeBorder(inside, y0, height - y0 - rect_h, x0, width - x0 - rect_w, cv2.BORDER_REPLICATE)

    def fade_map(self, w: int, h: int) -> np.ndarray | None:
        """[H, W] 1 inside the rect, falling to 0 over ``fade`` model pixels beyond it; None when the rect is the photo."""
        if (w, h) not in self._fades:
            x0, y0, rect_w, rect_h = self.rect
            height, width = self.photo.shape[:2]
            fade = None
            if (x0, y0, rect_w, rect_h) != (0, 0, width, height):
                grid_x, grid_y = self._grid
                u, v = (grid_x + 0.5 - x0) / rect_w, (grid_y + 0.5 - y0) / rect_h  # [H, W] model uv
                outside = np.maximum(np.maximum(np.maximum(-u, u - 1) * w, np.maximum(-v, v - 1) * h), 0)
                t = np.clip(outside / max(self.fade, 1e-6), 0, 1)
                fade = (1 - t * t * (3 - 2 * t)).astype(np.float32)  # 1 - smoothstep, as in the shader
            self._fades[(w, h)] = fade
        return self._fades[(w, h)]

    def region_at(self, coefficients: np.ndarray, gain: float) -> np.ndarray:
        """[H, W] the colour strokes' region on the whole photo: gain * clip(a . rgb + b), as the shader computes it."""
        height, width = self.photo.shape[:2]
        coefficients = cv2.resize(np.ascontiguousarray(coefficients, dtype=np.float32), (width, height),
                                  interpolation=cv2.INTER_LINEAR)
        a_r, a_g, a_b, offset = cv2.split(coefficients)
        value = cv2.add(cv2.multiply(a_r, self._planes[0], scale=1 / 255), offset)
        value = cv2.add(value, cv2.multiply(a_g, self._planes[1], scale=1 / 255))
        value = cv2.add(value, cv2.multiply(a_b, self._planes[2], scale=1 / 255))
        return np.clip(value, 0.0, 1.0) * np.float32(gain)

    def render(self, params: EditTransfer) -> np.ndarray:
        w, h = params.size
        _, _, rect_w, rect_h = self.rect
        # Warp the photo backwards: flow upsampled, then scaled from model to photo pixels.
        motion = self.upsample(params.motion_texels())  # [H, W, 4]: flow x, flow y, mask, 0
        grid_x, grid_y = self._grid
        warped = cv2.remap(self.photo, grid_x + motion[..., 0] * (rect_w / w), grid_y + motion[..., 1] * (rect_h / h),
                           cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)  # [H, W, 3] uint8
        warped = [plane.astype(np.float32) for plane in cv2.split(warped)]  # 3 x [H, W] in 0..255
        mask = np.ascontiguousarray(motion[..., 2])  # [H, W]
        fade = self.fade_map(w, h)
        if fade is not None:
            mask = cv2.multiply(mask, fade)
        if params.region is not None and params.region_gain > 0:
            mask = cv2.max(mask, self.region_at(params.region, params.region_gain))  # over the whole photo, unfaded
        # Per output channel: upsample its affine row, apply it, clip, blend over the original.
        coefficients = params.color.copy()
        coefficients[..., 3] *= 255.0  # offsets in 0..255 like the planes
        out = []
        for channel, original in enumerate(self._planes):
            a_r, a_g, a_b, offset = cv2.split(self.upsample(np.ascontiguousarray(coefficients[:, :, channel])))  # 4 x [H, W]
            colored = cv2.add(cv2.multiply(a_r, warped[0]), offset)
            colored = cv2.add(colored, cv2.multiply(a_g, warped[1]))
            colored = cv2.add(colored, cv2.multiply(a_b, warped[2]))
            np.clip(colored, 0.0, 255.0, out=colored)
            out.append(cv2.add(original, cv2.multiply(mask, cv2.subtract(colored, original))))
        return cv2.convertScaleAbs(cv2.merge(out))  # rounds and saturates to uint8 (values are >= 0)
