"""The pygame window with an OpenGL 3.3 core context, wrapped by ModernGL."""

from __future__ import annotations

import os
import warnings

import moderngl
import numpy as np
import pygame

from demo.app.render.back_buffer import BackBufferProbe
from demo.gl import RenderTarget, wrap_current_context


def init_pygame() -> None:
    """Initialise only what the app uses (no audio), joysticks included, before the window opens."""
    # SDL drops joystick input while the window is unfocused unless told otherwise; a kiosk window
    # may never get focus, and the offscreen driver never does.
    os.environ.setdefault("SDL_JOYSTICK_ALLOW_BACKGROUND_EVENTS", "1")
    pygame.display.init()
    pygame.font.init()
    pygame.joystick.init()
    try:
        from pygame._sdl2 import controller

        controller.init()
    except (ImportError, pygame.error):
        pass
    try:
        from demo.input import sdl

        sdl.set_hint("SDL_JOYSTICK_ALLOW_BACKGROUND_EVENTS", "1")  # also when joysticks were initialised earlier
    except (sdl.SDLUnavailable, OSError, AttributeError):
        pass


def _swap_interval() -> int:
    """SDL_GL_GetSwapInterval: 0 when presenting does not wait for the display (no vsync)."""
    try:
        from demo.input import sdl

        return int(sdl.library().SDL_GL_GetSwapInterval())
    except (ImportError, OSError, AttributeError, RuntimeError):
        return 0


class Window:
    def __init__(self, size: tuple[int, int], *, fullscreen: bool = False, title: str = "iGAN Live"):
        init_pygame()
        for attribute, value in ((pygame.GL_CONTEXT_MAJOR_VERSION, 3), (pygame.GL_CONTEXT_MINOR_VERSION, 3),
                                 (pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)):
            pygame.display.gl_set_attribute(attribute, value)
        pygame.display.set_caption(title)
        self.fullscreen = fullscreen
        self._windowed_size = tuple(size)
        self._open(size)
        self.ctx: moderngl.Context = wrap_current_context()
        self.ctx.enable(moderngl.BLEND)
        self._capture: RenderTarget | None = None
        self.back_buffer = BackBufferProbe()  # may frames draw only what changed straight into the window?

    def _open(self, size: tuple[int, int]) -> None:
        flags = pygame.OPENGL | pygame.DOUBLEBUF
        flags |= pygame.FULLSCREEN if self.fullscreen else pygame.RESIZABLE
        size = (0, 0) if self.fullscreen else size
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "vsync not available" (offscreen): then the app paces itself
            try:
                pygame.display.set_mode(size, flags, vsync=1)  # Present at display rate where the driver can.
            except pygame.error:
                pygame.display.set_mode(size, flags, vsync=0)
        # The offscreen driver accepts a swap interval but has no display to wait for.
        self.vsync = _swap_interval() != 0 and pygame.display.get_driver() not in ("offscreen", "dummy")

    @property
    def size(self) -> tuple[int, int]:
        return pygame.display.get_window_size()

    def toggle_fullscreen(self) -> None:
        """Switch fullscreen; the GL context survives (SDL keeps it across mode changes)."""
        self.fullscreen = not self.fullscreen
        if self.fullscreen:
            self._windowed_size = self.size
        pygame.display.toggle_fullscreen()

    @property
    def framebuffer(self) -> moderngl.Framebuffer:
        """The window's framebuffer (its back buffer, whose contents OpenGL leaves undefined after a swap)."""
        return self.ctx.screen

    def holds_last_frame(self) -> bool:
        """Whether the back buffer still holds the frame presented last (``back_buffer.py``)."""
        return self.back_buffer.holds_last_frame(self.ctx.screen)

    def use(self) -> None:
        """Bind the window's framebuffer for drawing, with the viewport over the whole window."""
        self.ctx.screen.use()
        self.ctx.screen.viewport = (0, 0, *self.size)

    def present(self) -> None:
        self.back_buffer.mark(self.ctx.screen)
        pygame.display.flip()

    def read_pixels(self) -> np.ndarray:
        """What has been drawn this frame, [H, W, 3] uint8 with row 0 at the top. Call before ``present``
        (after a swap the back buffer is undefined). The default framebuffer is blitted into a reused
        target first: moderngl's read of the default framebuffer raises GL_INVALID_OPERATION."""
        if self._capture is None:
            self._capture = RenderTarget(self.ctx, components=3)
        self._capture.ensure(self.size)
        self.ctx.copy_framebuffer(self._capture.fbo, self.ctx.screen)
        pixels = self._capture.read(components=3)  # [H, W, 3], framebuffer row 0 (the bottom) first
        self.ctx.screen.use()
        return pixels[::-1].copy()

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        pygame.display.quit()
