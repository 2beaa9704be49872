"""Input: pygame events -> session events and UI actions (mouse, keys, drop, touch pressure, evdev pens).

Pressure comes from a real SDL event watch on raw events pushed through SDL (the same call a driver
makes), and from the evdev decoder reading real bytes through a pipe.
"""

from __future__ import annotations

import os

import pygame
import pytest

from demo.input import Action, Brush, InputRouter, Viewport
from demo.input import sdl
from demo.input.keyboard import SHORTCUTS, lookup
from demo.input.pen import (ABS_PRESSURE, BTN_TOOL_PEN, BTN_TOUCH, EV_ABS, EV_KEY, EV_SYN, EvdevTablet, TouchPressure,
                            encode_events)
from demo.input.pointer import PointerStroke


class Recorder:
    """The app's side of the router (InputSink), recording what it is told, in order."""

    def __init__(self, canvas=Viewport(100, 50, 400, 400), window_size=(640, 480)):
        self.brush = Brush(tool="color", color=(10, 20, 30), width=0.1)
        self.canvas = canvas
        self.window_size = window_size
        self.log: list = []

    def on_event(self, event, *, at):
        self.log.append(("event", event))

    def on_action(self, action):
        self.log.append(("action", action))

    def press(self, x, y):
        self.log.append(("press", x, y))
        return True

    def drag(self, x, y):
        self.log.append(("drag", x, y))

    def release(self, x, y):
        self.log.append(("release", x, y))

    def events(self):
        return [item[1] for item in self.log if item[0] == "event"]


@pytest.fixture(scope="module")
def display():
    pygame.display.init()
    pygame.display.set_mode((64, 64))
    yield
    pygame.display.quit()


def mouse(kind, x, y, **extra):
    fields = {"pos": (x, y), "touch": False, **extra}
    if kind == pygame.MOUSEMOTION:
        fields.setdefault("rel", (0, 0))
        fields.setdefault("buttons", (1, 0, 0))
    else:
        fields.setdefault("button", 1)
    return pygame.event.Event(kind, fields)


def test_pointer_stroke_thins_and_clamps():
    stroke = PointerStroke(min_step=0.01)
    brush = Brush(tool="sketch", color=(1, 2, 3), width=0.05)
    down = stroke.down(0.0, -0.2, 0.5, 1.7, brush)
    assert (down.type, down.tool, down.x, down.y, down.pressure, down.color, down.width) == ("down", "sketch", 0.0, 0.5, 1.0, (1, 2, 3), 0.05)
    assert stroke.move(0.1, 0.005, 0.5, 1.0) is None  # under min_step, same pressure
    assert stroke.move(0.1, 0.005, 0.5, 0.5).pressure == 0.5  # pressure change alone counts
    assert stroke.move(0.2, 0.5, 1.3, 0.5).y == 1.0
    assert stroke.up(0.3).type == "up"
    assert stroke.up(0.4) is None and stroke.move(0.5, 0.9, 0.9, 1.0) is None


def test_mouse_drag_on_canvas_becomes_a_stroke_in_image_coordinates(display):
    sink = Recorder()
    router = InputRouter(sink, gamepads=False)
    router.handle([mouse(pygame.MOUSEBUTTONDOWN, 100, 50), mouse(pygame.MOUSEMOTION, 300, 250),
                   mouse(pygame.MOUSEMOTION, 300, 250, touch=True),  # synthesised from a touch: ignored
                   mouse(pygame.MOUSEMOTION, 500, 450), mouse(pygame.MOUSEBUTTONUP, 500, 450)], dt=0.016)
    events = sink.events()
    assert [e.type for e in events] == ["down", "move", "move", "up"]
    assert (events[0].x, events[0].y, events[0].tool, events[0].color) == (0.0, 0.0, "color", (10, 20, 30))
    assert (events[1].x, events[1].y) == (0.5, 0.5)
    assert (events[2].x, events[2].y) == (1.0, 1.0)  # the edge, clamped
    assert all(e.t >= 0 for e in events)


def test_press_outside_the_canvas_goes_to_widgets_and_keeps_them(display):
    sink = Recorder()
    router = InputRouter(sink, gamepads=False)
    router.handle([mouse(pygame.MOUSEBUTTONDOWN, 600, 20), mouse(pygame.MOUSEMOTION, 200, 200),
                   mouse(pygame.MOUSEBUTTONUP, 200, 200)], dt=0.016)
    assert [item[0] for item in sink.log] == ["press", "drag", "release"]  # no stroke though it crossed the canvas


def test_keys_wheel_right_click_and_drop(display):
    sink = Recorder()
    router = InputRouter(sink, gamepads=False)
    key = lambda k, mod=0: pygame.event.Event(pygame.KEYDOWN, key=k, mod=mod, unicode="", scancode=0)
    router.handle([
        key(pygame.K_z, pygame.KMOD_LCTRL), key(pygame.K_z, pygame.KMOD_LCTRL | pygame.KMOD_LSHIFT), key(pygame.K_f),
        key(pygame.K_3), key(pygame.K_s), key(pygame.K_s, pygame.KMOD_RCTRL),
        pygame.event.Event(pygame.MOUSEWHEEL, x=0, y=-1, flipped=False, touch=False),
        mouse(pygame.MOUSEBUTTONDOWN, 300, 250, button=3),
        pygame.event.Event(pygame.DROPFILE, file="/photos/lake.jpg"),
    ], dt=0.016)
    got = [(kind, item.name if kind == "event" else None, item.index if kind == "event" else None) if kind == "event"
           else (kind, item.name, item.value) for kind, item, *_ in sink.log]
    assert got == [
        ("event", "undo", None), ("event", "redo", None), ("event", "fix", None), ("event", "pick", 2),
        ("action", "tool", "sketch"), ("action", "save", None), ("action", "size_step", -1),
        ("action", "eyedropper", (0.5, 0.5)), ("action", "load_photo", "/photos/lake.jpg"),
    ]


def test_every_shortcut_is_unique_and_documented():
    seen = {(s.key, s.mods) for s in SHORTCUTS}
    assert len(seen) == len(SHORTCUTS)
    assert all(s.label and s.keys for s in SHORTCUTS)
    assert all(isinstance(s.action, Action) for s in SHORTCUTS)  # one action vocabulary
    from demo.tools.brushes import BRUSHES

    tools = {s.action.value for s in SHORTCUTS if s.action.name == "tool"}
    assert tools == set(BRUSHES)  # every registered brush has its shortcut
    assert lookup(pygame.K_z, pygame.KMOD_CTRL | pygame.KMOD_CAPS).action == Action(name="command", value="undo")  # locks are ignored


def test_touch_pressure_is_read_from_sdl_not_from_pygames_dy_field(display):
    """pygame 2.6 copies dy into FINGER*.pressure; the SDL event watch recovers the true value."""
    pressure = TouchPressure()
    assert pressure.available
    pygame.event.clear()
    try:
        sdl.push_finger_event(sdl.SDL_FINGERDOWN, x=0.25, y=0.5, pressure=0.37, dy=0.9, finger_id=4)
        sdl.push_finger_event(sdl.SDL_FINGERMOTION, x=0.5, y=0.5, pressure=0.81, dy=0.05, finger_id=4)
        sdl.push_finger_event(sdl.SDL_FINGERUP, x=0.5, y=0.5, pressure=0.0, dy=0.0, finger_id=4)
        events = [e for e in pygame.event.get() if e.type in (pygame.FINGERDOWN, pygame.FINGERMOTION, pygame.FINGERUP)]
        assert len(events) == 3
        assert events[0].pressure == pytest.approx(0.9)  # pygame's field: dy (if this fails, pygame fixed it)
        sink = Recorder(canvas=Viewport(0, 0, 640, 480))
        router = InputRouter(sink, touch_pressure=pressure, gamepads=False)
        router.handle(events, dt=0.016)
    finally:
        pressure.close()
    down, move, up = sink.events()
    assert (down.type, down.x, down.y) == ("down", 0.25, 0.5)
    assert down.pressure == pytest.approx(0.37, abs=1e-6)
    assert move.pressure == pytest.approx(0.81, abs=1e-6)
    assert up.type == "up"


def test_evdev_tablet_decodes_pressure_through_a_pipe():
    read_end, write_end = os.pipe()
    tablet = EvdevTablet(read_end, pressure_range=(0, 1023))
    try:
        assert tablet.pressure() is None  # nothing yet
        data = encode_events([(EV_KEY, BTN_TOOL_PEN, 1), (EV_ABS, ABS_PRESSURE, 0), (EV_SYN, 0, 0),
                              (EV_KEY, BTN_TOUCH, 1), (EV_ABS, ABS_PRESSURE, 512), (EV_SYN, 0, 0)])
        os.write(write_end, data[:37])  # a struct split across reads
        tablet.poll()
        os.write(write_end, data[37:])
        assert tablet.in_range
        assert tablet.pressure() == pytest.approx(512 / 1023)
        os.write(write_end, encode_events([(EV_ABS, ABS_PRESSURE, 2000), (EV_SYN, 0, 0)]))
        assert tablet.pressure() == 1.0  # clamped
        os.write(write_end, encode_events([(EV_KEY, BTN_TOUCH, 0), (EV_SYN, 0, 0)]))
        assert tablet.pressure() is None  # lifted
    finally:
        tablet.close()
        os.close(write_end)


def test_mouse_strokes_take_pressure_from_a_tablet(display):
    read_end, write_end = os.pipe()
    tablet = EvdevTablet(read_end, pressure_range=(0, 100))
    sink = Recorder()
    router = InputRouter(sink, tablet=tablet, gamepads=False)
    try:
        os.write(write_end, encode_events([(EV_KEY, BTN_TOUCH, 1), (EV_ABS, ABS_PRESSURE, 30)]))
        router.handle([mouse(pygame.MOUSEBUTTONDOWN, 300, 250)], dt=0.016)
        os.write(write_end, encode_events([(EV_ABS, ABS_PRESSURE, 80)]))
        router.handle([mouse(pygame.MOUSEMOTION, 302, 250)], dt=0.016)
    finally:
        router.close()
        os.close(write_end)
    down, move = sink.events()
    assert down.pressure == pytest.approx(0.3) and move.pressure == pytest.approx(0.8)


def test_action_names_are_checked():
    with pytest.raises(ValueError):
        Action(name="paint")
    assert Brush().scaled(100).width == 0.4 and Brush().scaled(-100).width == 0.01
    assert Brush(tool="erase").next_tool().tool == "color"
