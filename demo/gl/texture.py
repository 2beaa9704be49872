"""Textures and render targets that are reused across frames, and the shared unit-quad vertex array.

Rows: numpy row 0 goes to texture row 0 (``v = 0``) and framebuffer row 0 reads back as numpy row 0,
so off-screen passes never flip. Only a draw onto a window (row 0 at the bottom) flips ``v``.
"""

from __future__ import annotations

from collections import deque

import moderngl
import numpy as np

from demo.gl.context import context_cache

# numpy dtype -> moderngl dtype of a normalized (f1) or float (f2, f4) texture.
GL_DTYPES = {np.dtype(np.uint8): "f1", np.dtype(np.float16): "f2", np.dtype(np.float32): "f4"}
NP_DTYPES = {gl: np_dtype for np_dtype, gl in GL_DTYPES.items()}
UvRect = tuple[float, float, float, float]  # (u0, v0, u1, v1) in texture coordinates, v = 0 at row 0
# Unit quad as a triangle strip: attribute ``in_uv`` in [0, 1]^2 (see quad_position() in common.glsl).
QUAD_UV = np.array([0, 0, 1, 0, 0, 1, 1, 1], dtype="f4")


def layout_of(array: np.ndarray) -> tuple[tuple[int, int], int, str]:
    """((width, height), components, moderngl dtype) of an [H, W] or [H, W, C] array, C in 1..4."""
    if array.ndim not in (2, 3) or (array.ndim == 3 and not 1 <= array.shape[2] <= 4):
        raise ValueError(f"texture data must be [H, W] or [H, W, 1..4], got shape {array.shape}")
    if array.dtype not in GL_DTYPES:
        raise ValueError(f"texture data must be uint8, float16 or float32, got {array.dtype}")
    components = 1 if array.ndim == 2 else array.shape[2]
    return (array.shape[1], array.shape[0]), components, GL_DTYPES[array.dtype]


class Texture:
    """A 2D texture that writes new data in place when it is compatible (same size, components, dtype).

    ``reallocations`` counts how often the GL object had to be replaced; ``gl`` is the moderngl texture.
    Filtering and wrapping (clamp to edge by default) survive reallocation.

    ``version`` grows with every change of the contents, and ``changed_since`` says where they changed
    (as a uv region), so that a drawing of the texture can be redrawn only where it is stale. Uploads
    mark the whole texture; whoever renders into it marks what it drew with ``touch``.
    """

    HISTORY = 32  # changes remembered by changed_since
    def __init__(self, ctx: moderngl.Context, *, filter: int = moderngl.LINEAR, repeat: bool = False):
        self.ctx = ctx
        self.filter = filter
        self.repeat = repeat
        self.gl: moderngl.Texture | None = None
        self.reallocations = 0
        self.version = 0
        self._changes: deque[tuple[int, UvRect | None]] = deque(maxlen=self.HISTORY)

    @classmethod
    def from_array(cls, ctx: moderngl.Context, array: np.ndarray, **options) -> "Texture":
        texture = cls(ctx, **options)
        texture.update(array)
        return texture

    @property
    def layout(self) -> tuple[tuple[int, int], int, str] | None:
        return None if self.gl is None else (self.gl.size, self.gl.components, self.gl.dtype)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height); (0, 0) before the first update."""
        return (0, 0) if self.gl is None else self.gl.size

    def is_compatible(self, array: np.ndarray) -> bool:
        return self.layout == layout_of(array)

    def allocate(self, size: tuple[int, int], components: int, dtype: str) -> bool:
        """Make sure the GL object has this layout (contents undefined if it changed). True if reallocated."""
        if self.layout == (tuple(size), components, dtype):
            return False
        if self.gl is not None:
            self.gl.release()
        self.gl = self.ctx.texture(tuple(size), components, dtype=dtype, alignment=1)
        self.gl.filter = (self.filter, self.filter)
        self.gl.repeat_x = self.gl.repeat_y = self.repeat
        self.reallocations += 1
        self.touch()
        return True

    def update(self, array: np.ndarray) -> bool:
        """Upload ``array`` ([H, W] or [H, W, C]); writes in place when compatible. True if reallocated."""
        size, components, dtype = layout_of(array)
        reallocated = self.allocate(size, components, dtype)
        self.gl.write(np.ascontiguousarray(array), alignment=1)
        self.touch()
        return reallocated

    def touch(self, region: UvRect | None = None) -> None:
        """Note new contents in ``region`` (u0, v0, u1, v1), or everywhere."""
        self.version += 1
        self._changes.append((self.version, region))

    def changed_since(self, version: int) -> UvRect | None:
        """The uv region that changed after ``version``: None if everywhere (or too long ago to know);
        an empty region (u0 >= u1) if nothing did."""
        if version >= self.version:
            return (0.0, 0.0, 0.0, 0.0)
        if version < self.version - len(self._changes):
            return None
        regions = [region for v, region in self._changes if v > version]
        if any(region is None for region in regions):
            return None
        return (min(r[0] for r in regions), min(r[1] for r in regions), max(r[2] for r in regions), max(r[3] for r in regions))

    def use(self, location: int) -> None:
        self.gl.use(location)

    def release(self) -> None:
        if self.gl is not None:
            self.gl.release()
            self.gl = None


class RenderTarget:
    """A color texture + framebuffer, reallocated only when the size changes; reads back as numpy."""

    def __init__(self, ctx: moderngl.Context, *, components: int = 4, dtype: str = "f1", filter: int = moderngl.LINEAR):
        self.ctx = ctx
        self.components = components
        self.texture = Texture(ctx, filter=filter)
        self.fbo: moderngl.Framebuffer | None = None

    @property
    def size(self) -> tuple[int, int]:
        return self.texture.size

    def ensure(self, size: tuple[int, int], *, dtype: str = "f1") -> bool:
        """Give the target this (width, height). True if the GL objects were replaced."""
        if self.texture.layout == (tuple(size), self.components, dtype):
            return False
        self._release_fbo()
        self.texture.allocate(tuple(size), self.components, dtype)
        self.fbo = self.ctx.framebuffer(color_attachments=[self.texture.gl])
        return True

    def use(self) -> None:
        """Bind for drawing, with the viewport over the whole target."""
        self.fbo.use()
        self.fbo.viewport = (0, 0, *self.size)

    def read(self, *, components: int = 3, out: np.ndarray | None = None) -> np.ndarray:
        """Pixels as [H, W, components] (row 0 = texture row 0). ``out`` (same shape, C-contiguous) is reused."""
        width, height = self.size
        dtype = NP_DTYPES[self.texture.gl.dtype]
        shape = (height, width, components)
        if out is None:
            out = np.empty(shape, dtype=dtype)
        elif out.shape != shape or out.dtype != dtype or not out.flags.c_contiguous:
            raise ValueError(f"out must be a C-contiguous {dtype} array of shape {shape}, got {out.dtype} {out.shape}")
        self.fbo.read_into(out, components=components, alignment=1, dtype=self.texture.gl.dtype)
        return out

    def release(self) -> None:
        self._release_fbo()
        self.texture.release()

    def _release_fbo(self) -> None:
        """Release the framebuffer; if it is bound, bind the default one first (moderngl later rebinds
        "the bound framebuffer", and binding a released one is GL_INVALID_OPERATION)."""
        if self.fbo is None:
            return
        if self.ctx.fbo is self.fbo:
            default_framebuffer(self.ctx).use()
        self.fbo.release()
        self.fbo = None


def default_framebuffer(ctx: moderngl.Context) -> moderngl.Framebuffer:
    """The window's framebuffer, or framebuffer 0 of a headless context (always safe to bind)."""
    if ctx.screen is not None:
        return ctx.screen
    cache = context_cache(ctx, "framebuffers")
    if "default" not in cache:
        cache["default"] = ctx.detect_framebuffer(0)
    return cache["default"]


def quad_vao(ctx: moderngl.Context, program: moderngl.Program) -> moderngl.VertexArray:
    """The vertex array of the shared unit quad for ``program`` (attribute ``vec2 in_uv``), cached.

    Draw with ``vao.render(moderngl.TRIANGLE_STRIP)``. The vertex shader places it with
    ``quad_position(in_uv, rect)`` from common.glsl; rect (-1, -1, 1, 1) covers the viewport.
    """
    cache = context_cache(ctx, "quad")
    if "vbo" not in cache:
        cache["vbo"] = ctx.buffer(QUAD_UV.tobytes())
    key = program.glo
    if key not in cache:
        cache[key] = ctx.vertex_array(program, [(cache["vbo"], "2f", "in_uv")])
    return cache[key]
