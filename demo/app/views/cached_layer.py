"""A part of the window that changes rarely (the side panel, the morph bar, the background), rendered
into a texture once per change and copied into the window every frame with one framebuffer blit.

llvmpipe pays per draw call: the panel alone is some 60 rectangles and labels, redrawn each frame
for nothing while the pen draws. The layer is keyed by what it shows; a new key re-renders it.
"""

from __future__ import annotations

from typing import Callable, Hashable

import moderngl

from demo.gl import RenderTarget

BACKGROUND = (0.09, 0.09, 0.1, 1.0)


class CachedLayer:
    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.target = RenderTarget(ctx, components=4)
        self.key: Hashable | None = None
        self.renders = 0  # how often it was re-rendered (for tests and the profile)

    def draw(self, window_size: tuple[int, int], key: Hashable, render: Callable[[], None]) -> None:
        """Copy the layer into the window's framebuffer, re-rendering it first when ``key`` changed."""
        if self.target.ensure(tuple(window_size)) or key != self.key:
            self.target.use()
            self.ctx.clear(*BACKGROUND)
            render()
            self.key = key
            self.renders += 1
            self.ctx.screen.use()
            self.ctx.viewport = (0, 0, *window_size)
        self.ctx.copy_framebuffer(self.ctx.screen, self.target.fbo)

    def release(self) -> None:
        self.target.release()
