"""Per-frame edit transfer: estimate (flow, color, mask) between G(z0) and G(z_t), then carry it onto the photo.

Two renderers share the same inputs (an ``EditTransfer``) and agree to within 2/255:
- ``GLTransfer``: the shader path (shaders/warp_blend.glsl), full resolution, GL objects reused per frame;
- ``OpenCVTransfer``: the reference path (cv2.remap + cv2 arithmetic), for tests and the benchmark.

Model-resolution inputs are upsampled bilinearly (pixel centres at +0.5, edges clamped) over the photo
region the model saw (``rect``: the whole photo, or the centred square that projection crops); beyond that
region the edit at its edge fades out over ``fade`` model pixels, so a crop leaves no seam. The photo is
sampled bilinearly with its border replicated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import moderngl
import numpy as np

from demo.errors import UserError
from demo.gl.shaders import load_program
from demo.gl.texture import RenderTarget, Texture, quad_vao
from demo.transfer.color_model import ColorConfig, apply_local_affine, fit_local_affine, identity_color
from demo.transfer.flow import FlowConfig, FlowEstimator, warp
from demo.transfer.mask import MaskConfig, change_mask

SAMPLERS = ("u_photo", "u_motion", "u_color_r", "u_color_g", "u_color_b")
DEFAULT_FADE = 6.0  # model pixels

Rect = tuple[int, int, int, int]  # (x0, y0, width, height) in photo pixels


def centre_square(height: int, width: int) -> Rect:
    """The region ``demo.tools.photo.centre_crop_resize`` gives the model: the largest centred square."""
    side = min(height, width)
    return (width - side) // 2, (height - side) // 2, side, side


@dataclass(frozen=True, kw_only=True)
class TransferConfig:
    """flow_gate: keep motion only where, with the color model, it explains G(z_t) better than a color
    change alone does, by this much (mean absolute error, 0..1 units); 0 keeps the raw flow."""

    flow: FlowConfig = field(default_factory=FlowConfig)
    color: ColorConfig = field(default_factory=ColorConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    flow_gate: float = 0.01
    gate_sigma: float = 2.0  # model pixels over which the gate's evidence is pooled


@dataclass(frozen=True, kw_only=True)
class EditTransfer:
    """One frame of an edit at model resolution (h, w): all that the photo pass needs."""

    flow: np.ndarray  # [h, w, 2] float32: output pixel p takes the source at p + flow[p] (model pixels)
    color: np.ndarray  # [h, w, 3, 4] float32: out = color[..., :3] @ warped + color[..., 3]
    mask: np.ndarray  # [h, w] float32 in [0, 1]: 0 keeps the photo, 1 applies warp + color

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

    def __call__(self, source: np.ndarray, target: np.ndarray) -> EditTransfer:
        source, target = source.astype(np.float32), target.astype(np.float32)
        flow = self.flow_estimator(target, source)  # [h, w, 2] backward: target pixel -> source pixel
        if self.config.flow_gate > 0:
            flow = self.gate(flow, source, target)
        warped = warp(source, flow)  # [h, w, 3] G(z0) moved onto G(z_t)
        color = fit_local_affine(warped, target, config=self.config.color)  # [h, w, 3, 4]
        mask = change_mask(source, target, flow, config=self.config.mask)  # [h, w]
        return EditTransfer(flow=flow, color=color, mask=mask)

    def gate(self, flow: np.ndarray, source: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Drop motion where a color change alone explains the target as well (Occam).

        A color change that varies smoothly (a warmer sky, darker at the top) also looks like motion
        to a flow estimator; moving the photo there drags its border in as streaks. So the color model
        is fitted twice, after the warp and without it, and the flow is kept in proportion to how much
        it lowers the (locally pooled) error of the fit.
        """

        def fit_error(moved: np.ndarray) -> np.ndarray:
            color = fit_local_affine(moved, target, config=self.config.color)
            error = np.abs(apply_local_affine(moved, color) - target).mean(-1)  # [h, w]
            return cv2.GaussianBlur(error, (0, 0), self.config.gate_sigma, borderType=cv2.BORDER_REPLICATE)

        gain = fit_error(source) - fit_error(warp(source, flow))  # [h, w] > 0 where motion helps
        t = np.clip(gain / self.config.flow_gate, 0.0, 1.0)
        weight = cv2.GaussianBlur(t * t * (3 - 2 * t), (0, 0), self.config.gate_sigma / 2, borderType=cv2.BORDER_REPLICATE)
        return flow * weight[..., None]  # [h, w, 2]


def fit_photo(photo: np.ndarray, *, max_size: int, source: str = "photo") -> tuple[np.ndarray, str | None]:
    """Scale ``photo`` down (INTER_AREA) when a side exceeds ``max_size`` (e.g. GL_MAX_TEXTURE_SIZE).

    Returns (photo, message); message says what was done, or is None when the photo was kept as is.
    """
    height, width = photo.shape[:2]
    if max(height, width) <= max_size:
        return photo, None
    scale = max_size / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    message = (f"{source}: {width}x{height} is larger than this GPU's largest texture ({max_size} pixels a side); "
               f"scaled down to {size[0]}x{size[1]}")
    return cv2.resize(photo, size, interpolation=cv2.INTER_AREA), message


def _check_photo(photo: np.ndarray, rect: Rect | None) -> Rect:
    """Validate the photo; return the model's region (the whole photo by default)."""
    if photo.dtype != np.uint8 or photo.ndim != 3 or photo.shape[2] != 3:
        raise ValueError(f"photo must be [H, W, 3] uint8 RGB, got {photo.dtype} {photo.shape}")
    height, width = photo.shape[:2]
    rect = (0, 0, width, height) if rect is None else tuple(int(v) for v in rect)
    x0, y0, rect_w, rect_h = rect
    if rect_w <= 0 or rect_h <= 0 or x0 < 0 or y0 < 0 or x0 + rect_w > width or y0 + rect_h > height:
        raise ValueError(f"model region {rect} must lie inside the {width}x{height} photo")
    return rect


class GLTransfer:
    """The shader path. Upload the photo once, then per frame: upload (small) params, draw, read back.

    Textures and the render target are reused across frames and photos of one size; the output texture
    (``target.texture``) can also be drawn directly by the app without reading it back.
    """

    def __init__(self, ctx: moderngl.Context, *, fade: float = DEFAULT_FADE):
        self.ctx = ctx
        self.program = load_program(ctx, "warp_blend.glsl")
        self.fade = fade
        self.rect: Rect | None = None  # the model's region of the photo, set with the photo
        self.vao = quad_vao(ctx, self.program)
        self.photo = Texture(ctx)
        self.motion = Texture(ctx)
        self.colors = [Texture(ctx) for _ in range(3)]
        self.target = RenderTarget(ctx)
        self.max_size = int(ctx.info["GL_MAX_TEXTURE_SIZE"])
        for unit, name in enumerate(SAMPLERS):
            self.program[name].value = unit

    def set_photo(self, photo: np.ndarray, *, rect: Rect | None = None) -> None:
        """[H, W, 3] uint8 RGB, at most ``max_size`` a side (see ``fit_photo``); ``rect``: the model's region."""
        rect = _check_photo(photo, rect)
        height, width = photo.shape[:2]
        if max(height, width) > self.max_size:
            raise UserError(f"photo {width}x{height} exceeds GL_MAX_TEXTURE_SIZE {self.max_size}; scale it with fit_photo()")
        self.photo.update(photo)
        self.target.ensure((width, height))
        self.rect = rect

    def upload(self, params: EditTransfer) -> None:
        self.motion.update(params.motion_texels())
        for texture, texels in zip(self.colors, params.color_texels()):
            texture.update(texels)

    def draw(self) -> None:
        # Uniforms are set per draw: the program is shared by every GLTransfer on this context.
        self.program["u_model_rect"].value = tuple(float(v) for v in self.rect)
        self.program["u_fade"].value = self.fade
        for unit, texture in enumerate((self.photo, self.motion, *self.colors)):
            texture.use(unit)
        self.target.use()
        self.ctx.disable(moderngl.BLEND)
        self.vao.render(moderngl.TRIANGLE_STRIP)

    def read(self, *, out: np.ndarray | None = None) -> np.ndarray:
        """The output [H, W, 3] uint8 (``out`` is reused when given)."""
        return self.target.read(components=3, out=out)

    def render(self, params: EditTransfer) -> np.ndarray:
        self.upload(params)
        self.draw()
        return self.read()


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
        rect = _check_photo(photo, rect)
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
