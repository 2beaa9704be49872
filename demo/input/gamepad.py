"""Gamepads: full operation without mouse or keyboard, hot-plugged by instance id.

The left stick moves a cursor (the right stick too, slower); the right trigger is the pen: past a
small threshold the stroke starts, and how far it is pulled is the pressure. Buttons switch tools and
colors, undo, pick and fix (``BINDINGS``). Devices SDL knows as game controllers use SDL's standard
layout (CONTROLLER* events); other joysticks are read with the XInput order Linux's xpad reports.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pygame

from demo.input.actions import Action

try:
    from pygame._sdl2 import controller as sdl_controller
except ImportError:  # pygame built without SDL2's game controller API
    sdl_controller = None

AXIS_NAMES = ("leftx", "lefty", "rightx", "righty", "lefttrigger", "righttrigger")  # SDL_GameControllerAxis order
BUTTON_NAMES = ("a", "b", "x", "y", "back", "guide", "start", "leftstick", "rightstick", "leftshoulder",
                "rightshoulder", "dpup", "dpdown", "dpleft", "dpright")  # SDL_GameControllerButton order
JOYSTICK_AXES = {0: "leftx", 1: "lefty", 2: "lefttrigger", 3: "rightx", 4: "righty", 5: "righttrigger"}
JOYSTICK_BUTTONS = {0: "a", 1: "b", 2: "x", 3: "y", 4: "leftshoulder", 5: "rightshoulder", 6: "back", 7: "start",
                    8: "guide", 9: "leftstick", 10: "rightstick"}
HAT_BUTTONS = {(0, 1): "dpup", (0, -1): "dpdown", (-1, 0): "dpleft", (1, 0): "dpright"}

# Button -> (its Action, what it does).
BINDINGS: dict[str, tuple[Action, str]] = {
    "a": (Action(name="command", value="fix"), "fix: anchor later edits on the shown image"),
    "b": (Action(name="command", value="undo"), "undo"),
    "y": (Action(name="command", value="redo"), "redo"),
    "x": (Action(name="tool_next"), "next tool"),
    "leftshoulder": (Action(name="color_step", value=-1), "previous palette color"),
    "rightshoulder": (Action(name="color_step", value=1), "next palette color"),
    "dpleft": (Action(name="pick_step", value=-1), "previous thumbnail"),
    "dpright": (Action(name="pick_step", value=1), "next thumbnail"),
    "dpup": (Action(name="size_step", value=1), "bigger brush"),
    "dpdown": (Action(name="size_step", value=-1), "smaller brush"),
    "back": (Action(name="command", value="reset"), "new random start"),
    "start": (Action(name="toggle_help"), "help"),
    "guide": (Action(name="morph_play"), "play / pause the morph"),
    "leftstick": (Action(name="save"), "save"),
    "rightstick": (Action(name="toggle_overlay"), "show / hide the strokes"),
}
HELP_LINES = (
    ("left stick", "move the cursor (right stick: slowly)"),
    ("right trigger", "draw (pull harder: wider); on a button or thumbnail: press it"),
    ("left trigger", "eyedropper under the cursor"),
    *((button, label) for button, (_, label) in BINDINGS.items()),
)


@dataclass
class Pad:
    instance_id: int
    name: str
    device: object  # pygame Joystick or SDL Controller; kept open while plugged
    standard: bool  # True: CONTROLLER* events with SDL's standard layout
    axes: dict[str, float] = field(default_factory=lambda: {name: 0.0 for name in AXIS_NAMES})
    hat: tuple[int, int] = (0, 0)


class GamepadInput:
    """Tracks plugged pads; ``update(dt)`` moves the cursor; emits pointer samples and actions.

    ``emit`` receives ("pointer", phase, x, y, pressure), ("hover", x, y) and ("action", Action);
    positions are window pixels.
    """

    def __init__(self, emit, *, deadzone: float = 0.15, speed: float = 0.8, press: float = 0.15, release: float = 0.08):
        self.emit = emit
        self.deadzone = deadzone
        self.speed = speed  # window heights per second at full deflection
        self.press, self.release = press, release
        self.pads: dict[int, Pad] = {}
        self.cursor: tuple[float, float] | None = None
        self.drawing = False
        self._left_trigger_down = False

    # Hot-plug.
    def add(self, device_index: int, *, as_controller: bool) -> Pad:
        if as_controller:
            device = sdl_controller.Controller(device_index)
            pad = Pad(device.as_joystick().get_instance_id(), device.name, device, standard=True)
        else:
            device = pygame.joystick.Joystick(device_index)
            pad = Pad(device.get_instance_id(), device.get_name(), device, standard=False)
        self.pads[pad.instance_id] = pad
        return pad

    def remove(self, instance_id: int) -> None:
        pad = self.pads.pop(instance_id, None)
        if pad is None:
            return
        try:
            pad.device.quit()
        except pygame.error:
            pass
        if not self.pads and self.drawing:
            self._end_stroke()

    def handle(self, event: pygame.event.Event) -> bool:
        """Consume one pygame event; True if it was a gamepad event."""
        kind = event.type
        if kind == pygame.CONTROLLERDEVICEADDED and sdl_controller is not None:
            self.add(event.device_index, as_controller=True)
        elif kind == pygame.JOYDEVICEADDED:
            # A game controller also arrives as CONTROLLERDEVICEADDED; open it once, as a controller.
            if sdl_controller is None or not sdl_controller.is_controller(event.device_index):
                self.add(event.device_index, as_controller=False)
        elif kind in (pygame.JOYDEVICEREMOVED, pygame.CONTROLLERDEVICEREMOVED):
            self.remove(event.instance_id)
        elif kind in (pygame.CONTROLLERAXISMOTION, pygame.CONTROLLERBUTTONDOWN, pygame.CONTROLLERBUTTONUP):
            pad = self.pads.get(event.instance_id)
            if pad is not None and pad.standard:
                if kind == pygame.CONTROLLERAXISMOTION:
                    self._axis(pad, AXIS_NAMES[event.axis], event.value / 32767.0)
                elif event.button < len(BUTTON_NAMES):
                    self._button(BUTTON_NAMES[event.button], kind == pygame.CONTROLLERBUTTONDOWN)
        elif kind in (pygame.JOYAXISMOTION, pygame.JOYBUTTONDOWN, pygame.JOYBUTTONUP, pygame.JOYHATMOTION):
            pad = self.pads.get(event.instance_id)
            if pad is not None and not pad.standard:
                self._joystick(pad, event)
        else:
            return False
        return True

    def _joystick(self, pad: Pad, event: pygame.event.Event) -> None:
        if event.type == pygame.JOYAXISMOTION and event.axis in JOYSTICK_AXES:
            name = JOYSTICK_AXES[event.axis]
            value = (event.value + 1.0) / 2.0 if name.endswith("trigger") else event.value  # triggers rest at -1
            self._axis(pad, name, value)
        elif event.type in (pygame.JOYBUTTONDOWN, pygame.JOYBUTTONUP) and event.button in JOYSTICK_BUTTONS:
            self._button(JOYSTICK_BUTTONS[event.button], event.type == pygame.JOYBUTTONDOWN)
        elif event.type == pygame.JOYHATMOTION:
            old, pad.hat = pad.hat, tuple(event.value)
            for direction, name in HAT_BUTTONS.items():
                was = _hat_has(old, direction)
                now = _hat_has(pad.hat, direction)
                if now != was:
                    self._button(name, now)

    def _axis(self, pad: Pad, name: str, value: float) -> None:
        pad.axes[name] = max(-1.0, min(1.0, value))
        if name == "lefttrigger":
            if not self._left_trigger_down and value > self.press:
                self._left_trigger_down = True
                self.emit(("action", Action(name="eyedropper")))
            elif self._left_trigger_down and value < self.release:
                self._left_trigger_down = False

    def _button(self, name: str, pressed: bool) -> None:
        if not pressed or name not in BINDINGS:
            return
        self.emit(("action", BINDINGS[name][0]))

    # Per frame.
    def update(self, dt: float, window_size: tuple[int, int]) -> None:
        """Move the cursor by the sticks and drive the trigger stroke."""
        if not self.pads:
            return
        width, height = window_size
        if self.cursor is None:
            self.cursor = (width / 2, height / 2)
        dx = dy = 0.0
        trigger = 0.0
        for pad in self.pads.values():
            for x_axis, y_axis, gain in (("leftx", "lefty", 1.0), ("rightx", "righty", 0.25)):
                sx, sy = self._stick(pad.axes[x_axis], pad.axes[y_axis])
                dx += sx * gain
                dy += sy * gain
            trigger = max(trigger, pad.axes["righttrigger"])
        step = self.speed * height * min(dt, 0.1)
        x = min(width - 1.0, max(0.0, self.cursor[0] + dx * step))
        y = min(height - 1.0, max(0.0, self.cursor[1] + dy * step))
        moved = (x, y) != self.cursor
        self.cursor = (x, y)
        if not self.drawing and trigger > self.press:
            self.drawing = True
            self.emit(("pointer", "down", x, y, trigger))
        elif self.drawing and trigger < self.release:
            self._end_stroke()
        elif self.drawing and (moved or trigger > 0):
            self.emit(("pointer", "move", x, y, trigger))
        elif moved:
            self.emit(("hover", x, y))

    def _end_stroke(self) -> None:
        self.drawing = False
        x, y = self.cursor
        self.emit(("pointer", "up", x, y, 0.0))

    def _stick(self, x: float, y: float) -> tuple[float, float]:
        """Radial dead zone, then a squared response for fine control near the centre."""
        magnitude = math.hypot(x, y)
        if magnitude <= self.deadzone:
            return 0.0, 0.0
        scaled = min(1.0, (magnitude - self.deadzone) / (1.0 - self.deadzone))
        return x / magnitude * scaled ** 2, y / magnitude * scaled ** 2

    def close(self) -> None:
        self.pads.clear()


def _hat_has(hat: tuple[int, int], direction: tuple[int, int]) -> bool:
    return (direction[0] != 0 and hat[0] == direction[0]) or (direction[1] != 0 and hat[1] == direction[1])
