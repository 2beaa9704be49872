"""ctypes access to the SDL2 library that pygame itself loaded (not a second copy).

Two things pygame does not expose are read here:
- raw touch-finger events with their true ``pressure`` (pygame 2.6 copies ``dy`` into the pressure
  field of FINGER* events), through an SDL event watch;
- virtual joysticks (``SDL_JoystickAttachVirtual``, SDL >= 2.0.14), used by the tests to drive the
  gamepad path without hardware.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import glob
import os
import sys
from collections.abc import Callable
from pathlib import Path

SDL_INIT_VIDEO = 0x20
SDL_FINGERDOWN, SDL_FINGERUP, SDL_FINGERMOTION = 0x700, 0x701, 0x702
SDL_JOYSTICK_TYPE_GAMECONTROLLER = 1
SDL_EVENT_SIZE = 56


class SDLUnavailable(RuntimeError):
    """pygame's SDL2 library could not be found or is not the one pygame uses."""


class TouchFingerEvent(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_uint32),
        ("timestamp", ctypes.c_uint32),  # ms since SDL_Init (SDL_GetTicks)
        ("touchId", ctypes.c_int64),
        ("fingerId", ctypes.c_int64),
        ("x", ctypes.c_float),  # 0..1 of the window
        ("y", ctypes.c_float),
        ("dx", ctypes.c_float),
        ("dy", ctypes.c_float),
        ("pressure", ctypes.c_float),  # 0..1
        ("windowID", ctypes.c_uint32),
    ]


class SDLEvent(ctypes.Union):
    _fields_ = [("type", ctypes.c_uint32), ("tfinger", TouchFingerEvent), ("padding", ctypes.c_uint8 * SDL_EVENT_SIZE)]


EventFilter = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.POINTER(SDLEvent))

_LIBRARY: ctypes.CDLL | None = None


def _candidates() -> list[str]:
    """Paths of SDL2 libraries, the one already mapped into this process first (Linux)."""
    found = []
    maps = Path("/proc/self/maps")
    if maps.exists():
        for line in maps.read_text().splitlines():
            path = line.split()[-1] if line.split() else ""
            if "libSDL2-2" in os.path.basename(path) or os.path.basename(path).startswith("libSDL2.so"):
                found.append(path)
    import pygame

    base = Path(pygame.__file__).resolve().parent
    for pattern in ("*SDL2-2*.so*", "*SDL2*.dylib", "SDL2.dll"):
        for folder in (base, base / ".dylibs", base.parent / "pygame.libs"):
            found += sorted(glob.glob(str(folder / pattern)))
    system = ctypes.util.find_library("SDL2")
    if system:
        found.append(system)
    return list(dict.fromkeys(found))


def library() -> ctypes.CDLL:
    """pygame's SDL2, checked to be the initialised instance (call after pygame.display.init())."""
    global _LIBRARY
    if _LIBRARY is not None:
        return _LIBRARY
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path, mode=getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_GLOBAL) if sys.platform != "win32" \
                else ctypes.CDLL(path)
        except OSError:
            continue
        lib.SDL_WasInit.restype = ctypes.c_uint32
        lib.SDL_WasInit.argtypes = [ctypes.c_uint32]
        if lib.SDL_WasInit(SDL_INIT_VIDEO):
            _declare(lib)
            _LIBRARY = lib
            return lib
    raise SDLUnavailable("cannot find the SDL2 library pygame uses (is pygame.display initialised?)")


def gl_function(name: str, prototype: type) -> Callable | None:
    """An OpenGL function of the current context (SDL_GL_GetProcAddress) as ``prototype`` (a CFUNCTYPE), or None."""
    address = library().SDL_GL_GetProcAddress(name.encode())
    return prototype(address) if address else None


def _declare(lib: ctypes.CDLL) -> None:
    lib.SDL_GL_GetProcAddress.restype = ctypes.c_void_p
    lib.SDL_GL_GetProcAddress.argtypes = [ctypes.c_char_p]
    lib.SDL_GetError.restype = ctypes.c_char_p
    lib.SDL_GetTicks.restype = ctypes.c_uint32
    lib.SDL_AddEventWatch.argtypes = [EventFilter, ctypes.c_void_p]
    lib.SDL_DelEventWatch.argtypes = [EventFilter, ctypes.c_void_p]
    lib.SDL_PushEvent.argtypes = [ctypes.POINTER(SDLEvent)]
    lib.SDL_SetHint.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
    lib.SDL_JoystickAttachVirtual.argtypes = [ctypes.c_int] * 4
    lib.SDL_JoystickDetachVirtual.argtypes = [ctypes.c_int]
    lib.SDL_JoystickOpen.argtypes = [ctypes.c_int]
    lib.SDL_JoystickOpen.restype = ctypes.c_void_p
    lib.SDL_JoystickClose.argtypes = [ctypes.c_void_p]
    lib.SDL_JoystickSetVirtualAxis.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int16]
    lib.SDL_JoystickSetVirtualButton.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint8]


def error() -> str:
    return (library().SDL_GetError() or b"").decode(errors="replace")


def set_hint(name: str, value: str) -> bool:
    """SDL_SetHint (unlike the environment variable, this also reaches subsystems already running)."""
    return bool(library().SDL_SetHint(name.encode(), value.encode()))


def ticks_ms() -> int:
    return int(library().SDL_GetTicks())


def push_finger_event(kind: int, *, x: float, y: float, pressure: float, dx: float = 0.0, dy: float = 0.0,
                      touch_id: int = 1, finger_id: int = 0) -> None:
    """Push a raw touch-finger event, as a touch screen or pen driver would (tests, synthetic input)."""
    event = SDLEvent()
    event.tfinger = TouchFingerEvent(type=kind, timestamp=ticks_ms(), touchId=touch_id, fingerId=finger_id,
                                     x=x, y=y, dx=dx, dy=dy, pressure=pressure, windowID=0)
    if library().SDL_PushEvent(ctypes.byref(event)) < 0:
        raise RuntimeError(f"SDL_PushEvent failed: {error()}")


class EventWatch:
    """Calls ``callback(SDLEvent)`` for every event SDL queues (possibly from another thread), until removed."""

    def __init__(self, callback):
        self._callback = callback
        self._filter = EventFilter(self._call)  # Kept referenced: SDL holds a raw pointer to it.
        self._lib = library()
        self._lib.SDL_AddEventWatch(self._filter, None)
        self.active = True

    def _call(self, _userdata, event_pointer) -> int:
        try:
            self._callback(event_pointer.contents)
        except Exception:  # noqa: BLE001 - an exception must never unwind into SDL's C code
            pass
        return 1

    def remove(self) -> None:
        if self.active:
            self._lib.SDL_DelEventWatch(self._filter, None)
            self.active = False


class VirtualGamepad:
    """A virtual SDL game controller (standard layout: axes leftx, lefty, rightx, righty, triggerleft,
    triggerright; buttons a, b, x, y, back, guide, start, leftstick, rightstick, leftshoulder,
    rightshoulder, dpup, dpdown, dpleft, dpright). It appears to pygame as a hot-plugged device.

    SDL ignores joystick input while the window has no focus (always, under the offscreen driver)
    unless SDL_JOYSTICK_ALLOW_BACKGROUND_EVENTS=1 is set before pygame initialises its joysticks.
    """

    AXES, BUTTONS = 6, 15

    def __init__(self):
        lib = library()
        self.device_index = lib.SDL_JoystickAttachVirtual(SDL_JOYSTICK_TYPE_GAMECONTROLLER, self.AXES, self.BUTTONS, 0)
        if self.device_index < 0:
            raise RuntimeError(f"SDL_JoystickAttachVirtual failed: {error()}")
        self._handle = lib.SDL_JoystickOpen(self.device_index)
        if not self._handle:
            raise RuntimeError(f"SDL_JoystickOpen failed: {error()}")

    def set_axis(self, axis: int, value: float) -> None:
        """A stick axis in -1..1."""
        raw = int(round(max(-1.0, min(1.0, value)) * 32767))
        if library().SDL_JoystickSetVirtualAxis(self._handle, axis, raw) < 0:
            raise RuntimeError(f"SDL_JoystickSetVirtualAxis failed: {error()}")

    def set_trigger(self, axis: int, amount: float) -> None:
        """A trigger in 0 (released) .. 1 (fully pressed); SDL maps the raw -32768..32767 onto it."""
        self.set_axis(axis, 2.0 * max(0.0, min(1.0, amount)) - 1.0)

    def set_button(self, button: int, pressed: bool) -> None:
        if library().SDL_JoystickSetVirtualButton(self._handle, button, int(pressed)) < 0:
            raise RuntimeError(f"SDL_JoystickSetVirtualButton failed: {error()}")

    def detach(self) -> None:
        lib = library()
        if self._handle:
            lib.SDL_JoystickClose(self._handle)
            self._handle = None
            lib.SDL_JoystickDetachVirtual(self.device_index)
