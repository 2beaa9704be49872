"""Small, general OpenGL helpers on top of ModernGL (no GAN knowledge, no torch).

- ``context``: a headless EGL context (tests, CLI, benchmarks) or the app window's current context.
- ``shaders``: load ``shaders/NAME.glsl`` (vertex + fragment in one file, ``#include``, defines), cached per context.
- ``texture``: a ``Texture`` that updates in place when new data is compatible, a reusable ``RenderTarget``
  (texture + framebuffer + readback), and a shared unit-quad vertex array for full-screen or rectangle draws.

Row convention everywhere: numpy row 0 is texture row 0 (``v = 0``). Off-screen passes therefore keep
images in numpy order end to end (upload -> draw -> read back, no flips); only a draw onto the window,
whose row 0 is at the bottom, flips ``v``.
"""

from demo.gl.context import create_headless_context, wrap_current_context
from demo.gl.shaders import load_program, preprocess
from demo.gl.texture import RenderTarget, Texture, quad_vao

__all__ = [
    "RenderTarget",
    "Texture",
    "create_headless_context",
    "load_program",
    "preprocess",
    "quad_vao",
    "wrap_current_context",
]
