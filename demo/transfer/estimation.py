"""Per-frame estimation at model resolution: G(z0), G(z_t) -> EditTransfer (flow, color model, mask).

numpy/OpenCV only; both renderers (``gl_renderer``, ``opencv_renderer``) take its ``EditTransfer``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import cv2
import numpy as np

from demo.transfer.color_model import ColorConfig, apply_local_affine, fit_local_affine, identity_color
from demo.transfer.edit_region import EditRegion
from demo.transfer.flow import FlowConfig, FlowEstimator, warp
from demo.transfer.mask import MaskConfig, change_mask, edit_reach
from demo.transfer.region import PhotoRegion
from demo.transfer.region_color import SpreadConfig, painted_colour, spread_in_region


@dataclass(frozen=True, kw_only=True)
class TransferConfig:
    """How G's change is read.

    flow_gate: keep motion only where, with the color model, it explains G(z_t) better than a color change
    alone does, by this much (mean absolute error, 0..1 units); 0 keeps the raw flow. region_grow, region_falloff: with a ``region`` (the strokes), how far in model
    pixels the edit may reach beyond it, and over how many more it falls to nothing.
    """

    flow: FlowConfig = field(default_factory=FlowConfig)
    color: ColorConfig = field(default_factory=ColorConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    spread: SpreadConfig = field(default_factory=SpreadConfig)
    flow_gate: float = 0.01
    gate_sigma: float = 2.0  # model pixels over which the gate's evidence is pooled
    region_grow: float = 1.0
    region_falloff: float = 1.5


@dataclass(frozen=True, kw_only=True)
class EditTransfer:
    """One frame of an edit at model resolution (h, w): all that the photo pass needs."""

    flow: np.ndarray  # [h, w, 2] float32: output pixel p takes the source at p + flow[p] (model pixels)
    color: np.ndarray  # [h, w, 3, 4] float32: out = color[..., :3] @ warped + color[..., 3]
    mask: np.ndarray  # [h, w] float32 in [0, 1]: 0 keeps the photo, 1 applies warp + color
    # The colour strokes' region on the whole photo (``region.PhotoRegion.coefficients``, [s, t, 4]): the mask is at
    # least region_gain * clamp(a . photo_rgb + b) at each photo pixel, in or beyond the model's square (the colour
    # fields are clamped there); None: no region. One array for every frame.
    region: np.ndarray | None = None
    region_gain: float = 0.0

    @classmethod
    def identity(cls, height: int, width: int) -> "EditTransfer":
        return cls(flow=np.zeros((height, width, 2), np.float32), color=identity_color(height, width),
                   mask=np.zeros((height, width), np.float32))

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) at model resolution."""
        return self.flow.shape[1], self.flow.shape[0]

    def motion_texels(self) -> np.ndarray:
        """[h, w, 4] float32: (flow x, flow y, mask, 0), the u_motion texture."""
        zeros = np.zeros_like(self.mask)
        return np.ascontiguousarray(np.dstack([self.flow, self.mask, zeros]), dtype=np.float32)

    def color_texels(self) -> list[np.ndarray]:
        """Three [h, w, 4] float32 rows (a_r, a_g, a_b, offset) of the affine map, for R, G, B."""
        return [np.ascontiguousarray(self.color[:, :, c], dtype=np.float32) for c in range(3)]


class TransferEstimator:
    """G(z0), G(z_t) -> EditTransfer. Images: [h, w, 3] float in [0, 1]. Reuses the flow estimator."""

    def __init__(self, config: TransferConfig = TransferConfig()):
        self.config = config
        self.flow_estimator = FlowEstimator(config.flow)

    def __call__(self, source: np.ndarray, target: np.ndarray, *, region: EditRegion | None = None,
                 spread: PhotoRegion | None = None) -> EditTransfer:
        """``region``: where the user asked for a change, and where for geometry (``edit_region`` of the strokes).
        ``spread``: the colour strokes' region on the photo (``region.estimate_region``), with ``region``.

        With it, nothing changes beyond ``region_grow + region_falloff`` model pixels of the strokes, and
        nothing moves beyond that distance of a sketch or warp stroke: a GAN edit is global, and only the
        strokes tell the change asked for from the generator's drift elsewhere. Without it, all of G's change
        (above the mask's floor) is carried, and the flow gate alone decides what moves. With ``spread`` too,
        colour strokes change their whole region on the photo instead of their reach (``region_color``), and
        sketch and warp strokes keep their reach.
        """
        source, target = source.astype(np.float32), target.astype(np.float32)
        reach = motion_reach = None
        if spread is not None and region is None:
            raise ValueError("a photo region (spread) needs the strokes' edit region too")
        if region is not None:
            if region.change.shape != source.shape[:2]:
                raise ValueError(f"edit region {region.change.shape} must match the images {source.shape[:2]}")
            motion_reach = self.reach(region.motion)  # [h, w]
            reach = motion_reach if spread is not None else self.reach(region.change)  # [h, w]
        if motion_reach is not None and not motion_reach.any():
            flow = np.zeros((*source.shape[:2], 2), np.float32)  # a recolouring moves nothing
        else:
            flow = self.flow_estimator(target, source)  # [h, w, 2] backward: target pixel -> source pixel
            if motion_reach is not None:
                flow = flow * motion_reach[..., None]
        if self.config.flow_gate > 0 and flow.any():
            flow = self.gate(flow, source, target)
        warped = warp(source, flow)  # [h, w, 3] G(z0) moved onto G(z_t)
        color = fit_local_affine(warped, target, config=self.config.color)  # [h, w, 3, 4]
        # Within the strokes' reach every change was asked for, so small ones count too (no floor).
        mask_config = self.config.mask if reach is None else dataclasses.replace(self.config.mask, color_floor=0.0)
        mask = change_mask(source, target, flow, config=mask_config)  # [h, w]
        if reach is not None:
            # Confine the color model too, so that the fields mean "no change" beyond the reach by themselves.
            identity = identity_color(*mask.shape)
            confined = identity + reach[..., None, None] * (color - identity)
            mask = mask * reach
        else:
            confined = color
        if spread is None:
            return EditTransfer(flow=flow, color=confined, mask=mask)
        # Over the colour strokes' region: G's change, spread to the region's own border.
        inside = spread.in_square(source.shape[0])  # [h, w] the region over the model's square
        painted = painted_colour(region.colour, region.paint, sigma=self.config.spread.sigma)  # [h, w, 3]
        maps, weight, gain = spread_in_region(source, target, color, inside, painted, config=self.config.spread)
        color = confined + weight[..., None, None] * (maps - confined)
        return EditTransfer(flow=flow, color=color, mask=mask, region=spread.coefficients, region_gain=gain)

    def reach(self, coverage: np.ndarray) -> np.ndarray:
        """[h, w] in [0, 1]: 1 near the strokes' ``coverage``, 0 beyond ``region_grow + region_falloff`` pixels."""
        return edit_reach(coverage, grow=self.config.region_grow, falloff=self.config.region_falloff)

    def gate(self, flow: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Drop motion where a color change alone explains the target as well (Occam).

        A color change that varies smoothly (a warmer sky, darker at the top) also looks like motion
        to a flow estimator; moving the photo there drags its border in as streaks. So the color model
        is fitted twice, after the warp and without it, and the flow is kept in proportion to how much
        it lowers the (locally pooled) error of the fit. This is a heuristic: at the soft edge of a strongly
        recoloured region a flow can lower the fit error too (up to 3 px of motion on synthetic bands), which
        is why the strokes (``region``) decide where anything may move when they are known.
        """

        def fit_error(moved: np.ndarray) -> np.ndarray:
            color = fit_local_affine(moved, target, config=self.config.color)
            error = np.abs(apply_local_affine(moved, color) - target).mean(-1)  # [h, w]
            return cv2.GaussianBlur(error, (0, 0), self.config.gate_sigma, borderType=cv2.BORDER_REPLICATE)

        gain = fit_error(source) - fit_error(warp(source, flow))  # [h, w] > 0 where motion helps
        t = np.clip(gain / self.config.flow_gate, 0.0, 1.0)
        weight = cv2.GaussianBlur(t * t * (3 - 2 * t), (0, 0), self.config.gate_sigma / 2, borderType=cv2.BORDER_REPLICATE)
        return flow * weight[..., None]  # [h, w, 2]
