"""The shader renderer: an ``EditTransfer`` carried onto the full-resolution photo by shaders/warp_blend.glsl.

Model-resolution inputs are upsampled bilinearly (pixel centres at +0.5, edges clamped) over the photo region
the model saw (``rect``); beyond it the edit fades out. Agrees with ``opencv_renderer.OpenCVTransfer`` within 2/255.
"""

from __future__ import annotations

import moderngl
import numpy as np

from demo.errors import UserError
from demo.gl.shaders import load_program
from demo.gl.texture import RenderTarget, Texture, quad_vao
from demo.transfer.estimation import EditTransfer
from demo.transfer.photo_region import DEFAULT_FADE, Rect, check_photo

SAMPLERS = ("u_photo", "u_motion", "u_color_r", "u_color_g", "u_color_b", "u_region")
NO_REGION = np.zeros((1, 1, 4), np.float32)


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
        self.region = Texture(ctx)
        self.region_source: np.ndarray | None = None  # the coefficients in ``region`` (uploaded when another comes)
        self.region_gain = 0.0
        self.target = RenderTarget(ctx)
        self.max_size = int(ctx.info["GL_MAX_TEXTURE_SIZE"])
        for unit, name in enumerate(SAMPLERS):
            self.program[name].value = unit

    def set_photo(self, photo: np.ndarray, *, rect: Rect | None = None) -> None:
        """[H, W, 3] uint8 RGB, at most ``max_size`` a side (see ``fit_photo``); ``rect``: the model's region."""
        rect = check_photo(photo, rect)
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
        # The region is one array for a whole morph: upload it when another one comes.
        coefficients = NO_REGION if params.region is None else params.region
        if coefficients is not self.region_source:
            self.region.update(np.ascontiguousarray(coefficients, dtype=np.float32))
            self.region_source = coefficients
        self.region_gain = float(params.region_gain) if params.region is not None else 0.0

    def draw(self) -> None:
        # Uniforms are set per draw: the program is shared by every GLTransfer on this context.
        self.program["u_model_rect"].value = tuple(float(v) for v in self.rect)
        self.program["u_fade"].value = self.fade
        self.program["u_region_gain"].value = self.region_gain
        for unit, texture in enumerate((self.photo, self.motion, *self.colors, self.region)):
            texture.use(unit)
        self.target.use()
        self.ctx.disable(moderngl.BLEND)
        self.vao.render(moderngl.TRIANGLE_STRIP)
        self.target.texture.touch()

    def read(self, *, out: np.ndarray | None = None) -> np.ndarray:
        """The output [H, W, 3] uint8 (``out`` is reused when given)."""
        return self.target.read(components=3, out=out)

    def render(self, params: EditTransfer) -> np.ndarray:
        self.upload(params)
        self.draw()
        return self.read()
