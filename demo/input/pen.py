"""Pen and touch pressure.

Sources, by platform (SDL 2.28 as bundled with pygame 2.6):
- Touch screens and pens that SDL reports as touch fingers (Android, iOS, Linux KMSDRM/evdev, some
  Windows/Wayland pens): the true pressure is in SDL's raw ``SDL_TouchFingerEvent.pressure``, but
  pygame 2.6 copies ``dy`` into the ``pressure`` field of FINGER* events. ``TouchPressure`` installs an
  SDL event watch (ctypes, ``demo.input.sdl``) and hands the true value back per event.
- Pen tablets on desktop Linux (X11/Wayland): SDL2 turns the pen into a plain mouse, without pressure.
  ``EvdevTablet`` reads ABS_PRESSURE from the tablet's /dev/input/event* node (needs read access,
  e.g. membership of the ``input`` group) and lends it to mouse strokes.
- Windows (WM_POINTER/Ink) and macOS tablet pressure are not reported by SDL2 at all; strokes there
  use full pressure (SDL3's pen API would fix this).
"""

from __future__ import annotations

import collections
import errno
import glob
import os
import struct
import threading

from demo.input import sdl

try:
    import fcntl
except ImportError:  # Windows: no evdev tablets.
    fcntl = None

# Linux input-event codes (linux/input-event-codes.h).
EV_SYN, EV_KEY, EV_ABS = 0x00, 0x01, 0x03
ABS_PRESSURE = 0x18
BTN_TOOL_PEN, BTN_TOOL_RUBBER, BTN_TOUCH, BTN_STYLUS = 0x140, 0x141, 0x14A, 0x14B
INPUT_EVENT = struct.Struct("llHHi")  # struct input_event: timeval (2 longs), type, code, value
ABSINFO = struct.Struct("6i")  # value, minimum, maximum, fuzz, flat, resolution


class TouchPressure:
    """True finger/pen pressure, read from SDL's raw events before pygame converts them."""

    def __init__(self):
        self._pending: dict[tuple[int, int], collections.deque] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()
        try:
            self._watch = sdl.EventWatch(self._on_event)
        except (sdl.SDLUnavailable, OSError, AttributeError):
            self._watch = None

    @property
    def available(self) -> bool:
        return self._watch is not None

    def _on_event(self, event: sdl.SDLEvent) -> None:
        if event.type in (sdl.SDL_FINGERDOWN, sdl.SDL_FINGERUP, sdl.SDL_FINGERMOTION):
            finger = event.tfinger
            with self._lock:
                queue = self._pending[(finger.touchId, finger.fingerId)]
                queue.append((finger.x, finger.y, finger.pressure))
                while len(queue) > 256:  # Events pygame never delivered (filtered, flushed).
                    queue.popleft()

    def pressure_of(self, pygame_event) -> float | None:
        """The true pressure of a pygame FINGER* event (matched by touch, finger and position), or None."""
        key = (int(pygame_event.touch_id), int(pygame_event.finger_id))
        with self._lock:
            queue = self._pending.get(key)
            while queue:
                x, y, pressure = queue.popleft()
                if x == pygame_event.x and y == pygame_event.y:
                    return float(pressure)
        return None

    def close(self) -> None:
        if self._watch is not None:
            self._watch.remove()
            self._watch = None


def _ioc_read(number: int, size: int) -> int:
    return (2 << 30) | (size << 16) | (ord("E") << 8) | number


def _bits(fd: int, event_type: int, count: int) -> set[int]:
    """Codes of ``event_type`` the device supports (EVIOCGBIT)."""
    size = (count + 7) // 8
    buffer = bytearray(size)
    fcntl.ioctl(fd, _ioc_read(0x20 + event_type, size), buffer)
    return {code for code in range(count) if buffer[code // 8] >> (code % 8) & 1}


class EvdevTablet:
    """A Linux pen tablet read directly (non-blocking): pressure 0..1 while the pen touches."""

    def __init__(self, fd: int, *, pressure_range: tuple[int, int], name: str = "tablet", owns_fd: bool = True):
        self.fd = fd
        self.name = name
        self.minimum, self.maximum = pressure_range
        self.raw_pressure = self.minimum
        self.touching = False
        self.in_range = False
        self._owns_fd = owns_fd
        self._partial = b""
        os.set_blocking(fd, False)

    @classmethod
    def find(cls) -> "EvdevTablet | None":
        """The first readable /dev/input/event* device with pen pressure, or None."""
        if fcntl is None:
            return None
        for path in sorted(glob.glob("/dev/input/event*")):
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                keys = _bits(fd, EV_KEY, 0x300)
                axes = _bits(fd, EV_ABS, 0x40)
                if ABS_PRESSURE in axes and keys & {BTN_TOOL_PEN, BTN_STYLUS}:
                    info = bytearray(ABSINFO.size)
                    fcntl.ioctl(fd, _ioc_read(0x40 + ABS_PRESSURE, ABSINFO.size), info)
                    _, minimum, maximum, *_ = ABSINFO.unpack(info)
                    return cls(fd, pressure_range=(minimum, maximum), name=path)
            except OSError:
                pass
            os.close(fd)
        return None

    def poll(self) -> None:
        """Read every event waiting on the device."""
        while True:
            try:
                data = os.read(self.fd, INPUT_EVENT.size * 64)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    return
                raise
            if not data:
                return
            data = self._partial + data
            whole = len(data) - len(data) % INPUT_EVENT.size
            self._partial = data[whole:]
            for _, _, kind, code, value in INPUT_EVENT.iter_unpack(data[:whole]):
                self._apply(kind, code, value)

    def _apply(self, kind: int, code: int, value: int) -> None:
        if kind == EV_ABS and code == ABS_PRESSURE:
            self.raw_pressure = value
        elif kind == EV_KEY and code == BTN_TOUCH:
            self.touching = bool(value)
        elif kind == EV_KEY and code in (BTN_TOOL_PEN, BTN_TOOL_RUBBER):
            self.in_range = bool(value)

    def pressure(self) -> float | None:
        """Pressure 0..1 while the pen touches the tablet, else None."""
        self.poll()
        if not self.touching:
            return None
        span = max(1, self.maximum - self.minimum)
        return min(1.0, max(0.0, (self.raw_pressure - self.minimum) / span))

    def close(self) -> None:
        if self._owns_fd:
            os.close(self.fd)


def encode_events(events) -> bytes:
    """Pack (type, code, value) triples as struct input_event, as the kernel writes them (tests)."""
    return b"".join(INPUT_EVENT.pack(0, 0, kind, code, value) for kind, code, value in events)
