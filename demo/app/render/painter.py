"""Drawing the UI with ModernGL in window pixels (origin top-left): images, rounded rectangles, text,
recorded per frame and redrawn only where the frame changed.

Programs come from ``shaders/ui_*.glsl`` through demo.gl's loader; textures are reused (text labels
keep a fixed-capacity texture and only re-upload when their text changes).
"""

from __future__ import annotations

import moderngl
import numpy as np
import pygame

from demo.app.render.damage import Box, DrawOp, damage, meets, merge
from demo.gl import RenderTarget, Texture, load_program, quad_vao

Color = tuple[float, float, float, float]
Rect = tuple[float, float, float, float]  # (x, y, width, height) in window pixels


class Painter:
    """Records a frame's draws as ``DrawOp``s, then renders only what changed since the last frame.

    ``begin`` starts a frame; ``image``, ``composite``, ``rect`` (and ``text``, ``frame``, ``ring`` on
    top of them) record; ``render`` draws into a persistent target: its damaged boxes are cleared and
    every op that meets them is replayed, clipped to them (demo.app.render.damage). The rest of the target
    keeps last frame's pixels, so a frame that moves the cursor over a still image costs a few small
    draws instead of the whole window.
    """

    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.programs = {kind: load_program(ctx, f"ui_{kind}.glsl") for kind in ("image", "rect", "canvas")}
        self.vaos = {kind: quad_vao(ctx, program) for kind, program in self.programs.items()}
        self.window_size = (1, 1)
        self.ops: list[DrawOp] = []
        self._shown: list[DrawOp] | None = None  # the ops the target holds, None: nothing trustworthy
        self._shown_size = (0, 0)
        self.last_damage: list[Box] = []
        self._fonts: dict[int, pygame.font.Font] = {}
        self._labels: dict[tuple, "Label"] = {}

    def begin(self, window_size: tuple[int, int]) -> None:
        self.window_size = tuple(window_size)
        self.ops = []

    def invalidate(self) -> None:
        """Redraw everything next time (the target's pixels can no longer be trusted)."""
        self._shown = None

    def render(self, target: RenderTarget, *, background: Color, also: tuple[Box, ...] = ()) -> list[Box]:
        """Draw the recorded frame into ``target`` (of the window's size) where it differs, and over the boxes
        ``also`` (pixels someone else drew over); the boxes drawn."""
        if target.size != self.window_size:
            raise ValueError(f"the target is {target.size}, the frame {self.window_size}")
        previous = self._shown if self._shown_size == self.window_size else None
        boxes = damage(previous, self.ops, size=self.window_size)
        if previous is not None and also:
            boxes = merge(boxes + list(also))
        target.use()
        self.ctx.enable(moderngl.BLEND)
        height = self.window_size[1]
        for box in boxes:
            x0, y0, x1, y1 = box
            self.ctx.scissor = (x0, height - y1, x1 - x0, y1 - y0)  # GL rows count from the bottom
            self.ctx.clear(*background)
            for op in self.ops:
                if meets(op.bounds, box):
                    self._run(op)
        self.ctx.scissor = None
        self._shown, self._shown_size = self.ops, self.window_size
        self.last_damage = boxes
        return boxes

    def _clip(self, rect: Rect) -> tuple[float, float, float, float]:
        x, y, w, h = rect
        width, height = self.window_size
        return (2 * x / width - 1, 1 - 2 * y / height, 2 * (x + w) / width - 1, 1 - 2 * (y + h) / height)

    def _record(self, kind: str, rect: Rect, params: tuple, textures: tuple = (), uvs: tuple = ()) -> None:
        self.ops.append(DrawOp(kind=kind, rect=tuple(rect), params=params, textures=textures, uvs=uvs,
                               versions=tuple(texture.version for texture in textures)))

    def image(self, texture: Texture, rect: Rect, *, uv: Rect = (0, 0, 1, 1),
              tint: Color = (1, 1, 1, 1), premultiplied: bool = False, nearest: bool = False) -> None:
        """Draw ``texture`` (or its ``uv`` part, as (u0, v0, u1, v1)) into ``rect``; v = 0 is the top row."""
        self._record("image", rect, (tuple(tint), premultiplied, nearest), (texture,), (tuple(uv),))

    def composite(self, image: Texture, overlay: Texture, rect: Rect, *, uv: Rect = (0, 0, 1, 1),
                  overlay_opacity: float = 1.0) -> None:
        """``image`` (its ``uv`` part) with the premultiplied ``overlay`` over it, in one opaque pass."""
        self._record("canvas", rect, (float(overlay_opacity),), (image, overlay), (tuple(uv), (0.0, 0.0, 1.0, 1.0)))

    def frame(self, rect: Rect, color: Color, *, width: float = 2.0) -> None:
        """An outline around ``rect`` as four thin rectangles (no fill pass over the inside)."""
        x, y, w, h = rect
        for side in ((x - width, y - width, w + 2 * width, width), (x - width, y + h, w + 2 * width, width),
                     (x - width, y, width, h), (x + w, y, width, h)):
            self.rect(side, color)

    def rect(self, rect: Rect, fill: Color, *, radius: float = 0.0, border: float = 0.0,
             border_color: Color = (0, 0, 0, 0)) -> None:
        self._record("rect", rect, (tuple(fill), float(radius), float(border), tuple(border_color)))

    def ring(self, centre: tuple[float, float], radius: float, color: Color, *, width: float = 1.5) -> None:
        x, y = centre
        self.rect((x - radius, y - radius, 2 * radius, 2 * radius), (color[0], color[1], color[2], 0.0),
                  radius=radius, border=width, border_color=color)

    # Drawing one op.
    def _run(self, op: DrawOp) -> None:
        program = self.programs[op.kind]
        program["u_rect"].value = self._clip(op.rect)
        if op.kind == "rect":
            fill, radius, border, border_color = op.params
            program["u_size"].value = (max(1.0, op.rect[2]), max(1.0, op.rect[3]))
            program["u_radius"].value = radius
            program["u_border"].value = border
            program["u_fill"].value = fill
            program["u_border_color"].value = border_color
            self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
        elif op.kind == "image":
            tint, premultiplied, nearest = op.params
            (texture,) = op.textures
            program["u_uv_rect"].value = op.uvs[0]
            program["u_tint"].value = tint
            program["u_image"].value = 0
            if premultiplied:
                self.ctx.blend_func = moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA
            else:
                self.ctx.blend_func = moderngl.SRC_ALPHA, moderngl.ONE_MINUS_SRC_ALPHA
            texture.gl.filter = (moderngl.NEAREST, moderngl.NEAREST) if nearest else (moderngl.LINEAR, moderngl.LINEAR)
            texture.use(0)
        else:
            (opacity,) = op.params
            image, overlay = op.textures
            program["u_uv_rect"].value = op.uvs[0]
            program["u_overlay_opacity"].value = opacity
            program["u_image"].value = 0
            program["u_overlay"].value = 1
            image.gl.filter = (moderngl.LINEAR, moderngl.LINEAR)
            # The overlay is drawn at the canvas's own size: nearest sampling is exact there, and a third
            # cheaper than linear on llvmpipe (measured 4.3 -> 3.1 ms CPU for a 640 px canvas).
            overlay.gl.filter = (moderngl.NEAREST, moderngl.NEAREST)
            image.use(0)
            overlay.use(1)
            self.ctx.blend_func = moderngl.ONE, moderngl.ZERO
        self.vaos[op.kind].render(moderngl.TRIANGLE_STRIP)

    # Text.
    def font(self, size: int) -> pygame.font.Font:
        if size not in self._fonts:
            self._fonts[size] = pygame.font.Font(None, size)
        return self._fonts[size]

    def text(self, slot: str, text: str, position: tuple[float, float], *, size: int = 18,
             color: Color = (1, 1, 1, 1), anchor: str = "topleft") -> tuple[float, float]:
        """Draw one line; ``slot`` names a label whose texture is reused while its text changes.

        Returns the (width, height) drawn, in pixels.
        """
        key = (slot, size)
        label = self._labels.get(key)
        if label is None:
            label = self._labels[key] = Label(self.ctx, self.font(size))
        label.set(text)
        width, height = label.text_size
        x, y = position
        if anchor == "center":
            x, y = x - width / 2, y - height / 2
        elif anchor == "topright":
            x = x - width
        if width and height:
            self.image(label.texture, (round(x), round(y), width, height), uv=label.uv, tint=color)
        return width, height

    def text_size(self, text: str, *, size: int = 18) -> tuple[int, int]:
        return self.font(size).size(text)


class Label:
    """One line of text in a texture that grows to powers of two and is rewritten only on change."""

    def __init__(self, ctx: moderngl.Context, font: pygame.font.Font):
        self.font = font
        self.texture = Texture(ctx)
        self.text: str | None = None
        self.text_size = (0, 0)
        self.uv = (0.0, 0.0, 1.0, 1.0)
        self._pixels: np.ndarray | None = None

    def set(self, text: str) -> None:
        if text == self.text:
            return
        self.text = text
        surface = self.font.render(text, True, (255, 255, 255)) if text else None  # 32-bit with alpha
        width, height = (0, 0) if surface is None else surface.get_size()
        capacity = (_grow(width), _grow(height))
        if self._pixels is None or self._pixels.shape[1] < capacity[0] or self._pixels.shape[0] < capacity[1]:
            have = (0, 0) if self._pixels is None else (self._pixels.shape[1], self._pixels.shape[0])
            self._pixels = np.zeros((max(capacity[1], have[1]), max(capacity[0], have[0]), 4), np.uint8)
        self._pixels[:] = 0
        if surface is not None:
            self._pixels[:height, :width] = np.frombuffer(pygame.image.tobytes(surface, "RGBA"), np.uint8).reshape(height, width, 4)
        self.texture.update(self._pixels)
        self.text_size = (width, height)
        rows, columns = self._pixels.shape[:2]
        self.uv = (0.0, 0.0, width / columns, height / rows)


def _grow(n: int) -> int:
    return 1 << max(4, (max(1, n) - 1).bit_length())
