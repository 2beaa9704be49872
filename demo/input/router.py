"""One place where every device's input becomes session events and UI actions, in order.

Pointers (mouse, touch/pen, gamepad cursor) share one stroke: the first to go down on the canvas
owns it until it goes up; a press outside the canvas goes to the widgets (``InputSink.press``).
"""

from __future__ import annotations

import time
from typing import Iterable, Protocol

import pygame

from demo.input import keyboard
from demo.input.actions import Action, Brush
from demo.input.gamepad import GamepadInput
from demo.input.pen import EvdevTablet, TouchPressure
from demo.input.pointer import PointerStroke
from demo.input.viewport import Viewport
from demo.tools.session import Event


class InputSink(Protocol):
    """What the router feeds (the app)."""

    brush: Brush
    canvas: Viewport  # where the image is on screen
    window_size: tuple[int, int]

    def on_event(self, event: Event, *, at: float) -> None:
        """A session event; ``at`` is the clock time of the input that caused it (for latency)."""

    def on_action(self, action: Action) -> None: ...

    def press(self, x: float, y: float) -> bool:
        """A pointer went down outside the canvas; True if a widget took it (it then gets drag/release)."""

    def drag(self, x: float, y: float) -> None: ...

    def release(self, x: float, y: float) -> None: ...


class InputRouter:
    def __init__(self, sink: InputSink, *, clock=time.perf_counter, touch_pressure: TouchPressure | None = None,
                 tablet: EvdevTablet | None = None, gamepads: bool = True):
        self.sink = sink
        self.clock = clock
        self.t0 = clock()
        self.touch_pressure = touch_pressure
        self.tablet = tablet
        self.gamepad = GamepadInput(self._from_gamepad) if gamepads else None
        self.stroke = PointerStroke()
        self.stroke_owner: str | None = None
        self.widget_owner: str | None = None
        self.cursor: tuple[float, float] | None = None  # last pointer position, window pixels
        self._finger: tuple[int, int] | None = None  # the (touch, finger) drawing
        self._input_time = 0.0  # clock time of the pygame event being handled

    @property
    def gamepad_connected(self) -> bool:
        """A gamepad is plugged in (the cursor is then drawn as a crosshair)."""
        return self.gamepad is not None and bool(self.gamepad.pads)

    def drawing(self, *, besides: str | None = None) -> bool:
        """A stroke is being drawn, by any source other than ``besides`` (e.g. a fed session)."""
        return self.stroke_owner not in (None, besides)

    def now(self) -> float:
        """Session time of an event handled now (seconds since the router started)."""
        return self.clock() - self.t0

    def handle(self, events: Iterable[pygame.event.Event], *, dt: float) -> None:
        """Route one frame's pygame events, then advance the gamepad cursor by ``dt`` seconds."""
        for event in events:
            self._handle(event)
        if self.tablet is not None:
            self._tablet_pressure()  # notices a tablet unplugged mid-stroke even when no mouse event follows
        if self.gamepad is not None:
            self._input_time = self.clock()
            self.gamepad.update(dt, self.sink.window_size)

    def _emit(self, event: Event) -> None:
        self.sink.on_event(event, at=self._input_time)

    def _handle(self, event: pygame.event.Event) -> None:
        # Injected events (benchmarks, remote input) may say when their input happened; others count
        # from now, when the frame reads them.
        self._input_time = getattr(event, "input_time", None) or self.clock()
        kind = event.type
        if kind in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP, pygame.MOUSEMOTION, pygame.MOUSEWHEEL):
            if not getattr(event, "touch", False):  # Mouse events SDL synthesises from touches come as FINGER* too.
                self._mouse(event)
        elif kind in (pygame.FINGERDOWN, pygame.FINGERMOTION, pygame.FINGERUP):
            self._touch(event)
        elif kind == pygame.KEYDOWN:
            self._key(event)
        elif kind == pygame.DROPFILE:
            self.sink.on_action(Action(name="load_photo", value=event.file))
        elif kind == pygame.QUIT:
            self.sink.on_action(Action(name="quit"))
        elif self.gamepad is not None:
            self.gamepad.handle(event)

    # Pointers.
    def pointer(self, source: str, phase: str, x: float, y: float, pressure: float, *, at: float | None = None) -> None:
        """A pointer sample in window pixels: ``phase`` is down, move or up; ``at``: when it happened (default: now)."""
        if at is not None:
            self._input_time = at
        self.cursor = (x, y)
        canvas = self.sink.canvas
        if phase == "down":
            if self.stroke_owner is not None or self.widget_owner is not None:
                return  # Another pointer holds the stroke or a widget.
            if canvas.contains(x, y):
                self.stroke_owner = source
                self._emit(self.stroke.down(self.now(), *canvas.to_image(x, y), pressure, self.sink.brush))
            elif self.sink.press(x, y):
                self.widget_owner = source
        elif phase == "move":
            if self.stroke_owner == source:
                event = self.stroke.move(self.now(), *canvas.to_image(x, y), pressure)
                if event is not None:
                    self._emit(event)
            elif self.widget_owner == source:
                self.sink.drag(x, y)
        elif phase == "up":
            if self.stroke_owner == source:
                self.stroke_owner = None
                self._emit(self.stroke.up(self.now()))
            elif self.widget_owner == source:
                self.widget_owner = None
                self.sink.release(x, y)

    def _mouse_pressure(self) -> float:
        pressure = self._tablet_pressure()
        return 1.0 if pressure is None else pressure

    def _tablet_pressure(self) -> float | None:
        """The tablet's pen pressure, or None; an unplugged tablet (its device fails to read) is let go,
        and a stroke it was drawing ends cleanly where it was."""
        if self.tablet is None:
            return None
        try:
            return self.tablet.pressure()
        except OSError:
            tablet, self.tablet = self.tablet, None
            try:
                tablet.close()
            except OSError:
                pass
            if self.stroke_owner == "mouse":
                self.pointer("mouse", "up", *(self.cursor or (0.0, 0.0)), 0.0)
            return None

    def _mouse(self, event: pygame.event.Event) -> None:
        if event.type == pygame.MOUSEWHEEL:
            if event.y:
                self.sink.on_action(Action(name="size_step", value=1 if event.y > 0 else -1))
            return
        x, y = event.pos
        if event.type == pygame.MOUSEMOTION:
            self.pointer("mouse", "move", x, y, self._mouse_pressure())
        elif event.button == 1:
            self.pointer("mouse", "down" if event.type == pygame.MOUSEBUTTONDOWN else "up", x, y, self._mouse_pressure())
        elif event.button == 3 and event.type == pygame.MOUSEBUTTONDOWN:
            self.cursor = (x, y)
            self._eyedropper()

    def _touch(self, event: pygame.event.Event) -> None:
        key = (event.touch_id, event.finger_id)
        pressure = self.touch_pressure.pressure_of(event) if self.touch_pressure is not None else None
        pressure = 1.0 if pressure is None else pressure
        width, height = self.sink.window_size
        x, y = event.x * width, event.y * height
        if event.type == pygame.FINGERDOWN:
            if self._finger is None:
                self._finger = key
                self.pointer("touch", "down", x, y, pressure)
        elif key == self._finger:
            if event.type == pygame.FINGERMOTION:
                self.pointer("touch", "move", x, y, pressure)
            else:
                self._finger = None
                self.pointer("touch", "up", x, y, pressure)

    def _key(self, event: pygame.event.Event) -> None:
        shortcut = keyboard.lookup(event.key, event.mod)
        if shortcut is None:
            return
        if shortcut.at_cursor:
            self._eyedropper()
        else:
            self.act(shortcut.action)

    def act(self, action: Action, *, at: float | None = None) -> None:
        """Any input's action: edit commands become recorded session events, the rest go to the sink."""
        if at is not None:
            self._input_time = at
        if action.name == "command":
            self._emit(Event(t=self.now(), type="command", name=action.value))
        elif action.name == "pick":
            self._emit(Event(t=self.now(), type="command", name="pick", index=action.value))
        else:
            self.sink.on_action(action)

    def _eyedropper(self) -> None:
        """Take the color under the pointer, if it is over the canvas."""
        if self.cursor is not None and self.sink.canvas.contains(*self.cursor):
            self.sink.on_action(Action(name="eyedropper", value=self.sink.canvas.to_image(*self.cursor)))

    def _from_gamepad(self, item: tuple) -> None:
        kind = item[0]
        if kind == "pointer":
            self.pointer("gamepad", *item[1:])
        elif kind == "hover":
            self.cursor = item[1:]
        elif item[1].name == "eyedropper":
            self._eyedropper()
        else:
            self.act(item[1])

    def close(self) -> None:
        if self.gamepad is not None:
            self.gamepad.close()
        if self.touch_pressure is not None:
            self.touch_pressure.close()
        if self.tablet is not None:
            self.tablet.close()
