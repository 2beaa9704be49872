"""Whether the window's back buffer still holds the frame presented last, checked every frame.

OpenGL leaves the back buffer undefined after a swap, so the app draws into a persistent layer and
copies it to the window: a full-window copy per frame (about 3 ms at 1024x768 on llvmpipe, a third
of a drawn frame). Mesa's software drivers (llvmpipe under X11 and SDL's offscreen driver) copy at
the swap and keep the back buffer; a GPU that flips buffers may not. Nothing tells which (no
EGL_EXT_buffer_age here), so the window checks: before each swap, ``mark`` writes a code for the
frame into the bottom-left pixel (a dark colour whose low bits count frames); before the next frame,
``holds_last_frame`` reads that one pixel back. Only when the code is there may the next frame draw
just what changed straight into the window, with that pixel among what it redraws (``code_box``).
The read waits only for the previous frame, which llvmpipe has long finished by then: nothing in the
frame being drawn waits for its own rendering. A miss means one frame drawn whole; three misses in a
row and the probe stops (``enabled`` False): the layer and the copy, for good.
"""

from __future__ import annotations

import ctypes

import moderngl

MISSES_TO_GIVE_UP = 3
CODE_BASE = (20, 20, 22)  # a dark colour; a frame's code changes the lowest bit of each channel
PIXEL = (0, 0, 1, 1)  # the window's bottom-left pixel (GL rows count from the bottom)


def code_box(window_size: tuple[int, int]) -> tuple[int, int, int, int]:
    """The code's pixel as a damage box (x0, y0, x1, y1) in window pixels from the top-left."""
    return (0, window_size[1] - 1, 1, window_size[1])


class BackBufferProbe:
    def __init__(self) -> None:
        self._read_pixels = _gl_read_pixels()
        self.enabled = self._read_pixels is not None
        self.frames = 0  # frames marked (presented)
        self._marked: tuple[int, int, int] | None = None
        self._misses = 0

    def _pixel(self, screen: moderngl.Framebuffer) -> tuple[int, int, int]:
        screen.use()
        pixel = (ctypes.c_ubyte * 4)()
        self._read_pixels(*PIXEL, GL_RGB, GL_UNSIGNED_BYTE, ctypes.addressof(pixel))
        return tuple(pixel[:3])

    @staticmethod
    def code(frame: int) -> tuple[int, int, int]:
        """Frame ``frame``'s code: the frame count mod 8 in the low bits of the pixel's R, G and B."""
        return tuple(base + (frame >> bit & 1) for bit, base in enumerate(CODE_BASE))

    def mark(self, screen: moderngl.Framebuffer) -> None:
        """Just before a swap: this frame's code into the window's bottom-left pixel."""
        if not self.enabled:
            return
        self.frames += 1
        code = self.code(self.frames)
        screen.clear(*(value / 255 for value in code), 1.0, viewport=PIXEL)
        self._marked = code

    def holds_last_frame(self, screen: moderngl.Framebuffer) -> bool:
        """After a swap: whether the back buffer still holds the frame presented last (but for the code's
        pixel, which the next frame must redraw: ``code_box``)."""
        if not self.enabled or self._marked is None:
            return False
        marked, self._marked = self._marked, None
        if self._pixel(screen) == marked:
            self._misses = 0
            return True
        self._misses += 1
        self.enabled = self._misses < MISSES_TO_GIVE_UP
        return False


GL_RGB, GL_UNSIGNED_BYTE = 0x1907, 0x1401
ReadPixels = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_uint,
                              ctypes.c_uint, ctypes.c_void_p)


def _gl_read_pixels():
    """glReadPixels of the window's context. moderngl's own read of the default framebuffer sets
    GL_INVALID_OPERATION (it asks for a colour attachment that a window has not), so it is called directly."""
    try:
        from demo.input import sdl

        return sdl.gl_function("glReadPixels", ReadPixels)
    except (ImportError, OSError, AttributeError, RuntimeError):
        return None
