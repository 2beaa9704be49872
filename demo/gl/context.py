"""OpenGL contexts: headless (EGL, no window, no SDL) or the one the app window already made current."""

from __future__ import annotations

import moderngl

from demo.errors import UserError

REQUIRED_GL = 330  # GLSL 3.30 core: every shader in shaders/ is written for it.


def create_headless_context(*, require: int = REQUIRED_GL) -> moderngl.Context:
    """A standalone EGL context (Mesa llvmpipe on a machine without a GPU). Needs no display.

    Raises UserError when EGL (libEGL + a Mesa driver) is missing, with what to install.
    """
    try:
        ctx = moderngl.create_context(standalone=True, backend="egl", require=require)
    except Exception as exc:  # glcontext raises bare Exception for a missing library or display.
        raise UserError(
            f"cannot create a headless OpenGL {require // 100}.{require % 100 // 10} context through EGL ({exc}). "
            "Install EGL and a Mesa driver (Debian/Ubuntu: apt-get install libegl1 libgl1-mesa-dri), "
            "or run where a GPU driver provides libEGL."
        ) from None
    return ctx


def wrap_current_context(*, require: int = REQUIRED_GL) -> moderngl.Context:
    """Wrap the context that is current on this thread (e.g. a pygame ``OPENGL`` window's).

    Raises UserError when none is current or it is too old. Measured pitfall (Mesa, SDL offscreen):
    while any moderngl context made earlier in the process is still unreleased (a headless one, or the
    wrapper of a window that has since closed), moderngl cannot detect a new window's context
    ("glXGetCurrentContext: cannot detect"). Call ``ctx.release()`` on every context when done with it,
    and on a window's wrapper before ``pygame.display.quit()``.

    moderngl wraps the first current context through its own symbol loader (EGL and GLX alike) and
    caches it as its default; later wraps go through glcontext's "detect" mode, which on Linux knows
    only GLX and fails on SDL's EGL contexts (offscreen, Wayland). Clearing that cache around the call
    makes every window take the first path.
    """
    moderngl._store.default_context = None
    try:
        return moderngl.create_context(require=require)
    except Exception as exc:
        raise UserError(
            f"no usable OpenGL {require // 100}.{require % 100 // 10} context is current ({exc}); "
            "open the window with pygame.OPENGL (core profile) before wrapping it"
        ) from None
    finally:
        moderngl._store.default_context = None


def context_cache(ctx: moderngl.Context, name: str) -> dict:
    """A dict that lives exactly as long as ``ctx`` (kept in ``ctx.extra``, which demo.gl owns as a dict).

    Programs, the shared quad buffer and per-program vertex arrays are cached here, so that nothing
    outlives its context and nothing is rebuilt per frame.
    """
    if ctx.extra is None:
        ctx.extra = {}
    if not isinstance(ctx.extra, dict):
        raise TypeError(f"ctx.extra holds a {type(ctx.extra).__name__}; demo.gl keeps its caches there as a dict")
    return ctx.extra.setdefault(name, {})


def describe(ctx: moderngl.Context) -> dict[str, object]:
    """Renderer, version and limits, for reports and benchmarks."""
    info = ctx.info
    return {
        "renderer": info["GL_RENDERER"],
        "version": info["GL_VERSION"],
        "max_texture_size": int(info["GL_MAX_TEXTURE_SIZE"]),
    }
