"""Dense optical flow between two generated images at model resolution (numpy/OpenCV only).

Direction: ``estimate_flow(target, source)`` returns the *backward* flow that ``cv2.remap`` needs:
for each pixel p of ``target``, ``source[p + flow[p]] ~ target[p]``. To make the photo look like the
edited image G(z_t) we call it with target = G(z_t) and source = G(z0), then fetch photo pixels at
``p + flow[p]`` (scaled to the photo's size).

Default: DIS (OpenCV's dense inverse search) with parameters tuned for 64x64 images ("tuned": 4x4
patches every 2 pixels down to the finest scale, 25 descent and 5 variational iterations). OpenCV's own
presets use 8x8 patches and stop one or two scales above the finest, which is coarse on a 64x64 image.
The choice was measured (endpoint error on synthetic known flows, and time) by
``python -m demo bench transfer``; see docs/transfer.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

FLOW_METHODS = ("dis", "farneback")
DIS_PRESETS = {
    "tuned": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,  # then overridden by TUNED_DIS below
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}

# finest scale, patch size, patch stride, gradient descent iterations, variational refinement iterations.
TUNED_DIS = (0, 4, 2, 25, 5)


@dataclass(frozen=True, kw_only=True)
class FlowConfig:
    """How to estimate flow: method, DIS preset, and the upsampling factor applied before estimating."""

    method: str = "dis"
    preset: str = "tuned"
    upscale: int = 1

    def __post_init__(self) -> None:
        if self.method not in FLOW_METHODS:
            raise ValueError(f"flow method must be one of {FLOW_METHODS}, got {self.method!r}")
        if self.preset not in DIS_PRESETS:
            raise ValueError(f"DIS preset must be one of {tuple(DIS_PRESETS)}, got {self.preset!r}")
        if self.upscale < 1:
            raise ValueError(f"upscale must be >= 1, got {self.upscale}")


class FlowEstimator:
    """Backward flow target -> source, reusing one OpenCV estimator across frames."""

    def __init__(self, config: FlowConfig = FlowConfig()):
        self.config = config
        self._dis = None
        if config.method == "dis":
            self._dis = cv2.DISOpticalFlow_create(DIS_PRESETS[config.preset])
            if config.preset == "tuned":
                finest, patch, stride, descent, variational = TUNED_DIS
                self._dis.setFinestScale(finest)
                self._dis.setPatchSize(patch)
                self._dis.setPatchStride(stride)
                self._dis.setGradientDescentIterations(descent)
                self._dis.setVariationalRefinementIterations(variational)

    def __call__(self, target: np.ndarray, source: np.ndarray) -> np.ndarray:
        """target, source: [h, w, 3] (float in [0, 1] or uint8). Returns flow [h, w, 2] float32, in pixels."""
        if target.shape != source.shape:
            raise ValueError(f"flow needs images of one shape, got {target.shape} and {source.shape}")
        h, w = target.shape[:2]
        scale = self.config.upscale
        # Estimate on grey images, upsampled so that the estimator's patches are fine enough.
        a, b = (_grey_u8(image, scale) for image in (target, source))
        if self._dis is not None:
            flow = self._dis.calc(a, b, None)  # [h*s, w*s, 2]
        else:
            flow = cv2.calcOpticalFlowFarneback(a, b, None, pyr_scale=0.5, levels=3, winsize=9 * scale,
                                                iterations=5, poly_n=5, poly_sigma=1.1, flags=0)
        # Back to model resolution and model pixels.
        if scale != 1:
            flow = cv2.resize(flow, (w, h), interpolation=cv2.INTER_AREA) / scale
        return np.ascontiguousarray(flow, dtype=np.float32)  # [h, w, 2]


def estimate_flow(target: np.ndarray, source: np.ndarray, *, config: FlowConfig = FlowConfig()) -> np.ndarray:
    """One-off backward flow target -> source ([h, w, 2] float32); see ``FlowEstimator`` to reuse state."""
    return FlowEstimator(config)(target, source)


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` fetched at ``p + flow[p]`` (bilinear, border replicated): the backward warp at one size."""
    h, w = flow.shape[:2]
    grid_x, grid_y = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(image, grid_x + flow[..., 0], grid_y + flow[..., 1], cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def endpoint_error(estimated: np.ndarray, truth: np.ndarray, *, border: int = 0) -> float:
    """Mean Euclidean distance between two flows, ignoring ``border`` pixels on each side."""
    h, w = truth.shape[:2]
    diff = (estimated - truth)[border:h - border, border:w - border]
    return float(np.sqrt((diff**2).sum(-1)).mean())


def _grey_u8(image: np.ndarray, scale: int) -> np.ndarray:
    if image.dtype != np.uint8:
        image = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)
    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    if scale != 1:
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return grey
