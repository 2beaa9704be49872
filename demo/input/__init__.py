"""Input: pygame events from mouse, pen/touch and gamepads -> session ``Event``s and UI ``Action``s.

Every device ends in the same two streams, in order, through an ``InputSink``:
``Event`` (demo.tools.session: down/move/up/command, the edit itself, recorded and replayed) and
``Action`` (tool, color, brush size, view toggles, save...: the UI around the edit, not recorded).
No torch, no GL here: this package only reads pygame events (and SDL/evdev through ctypes for pressure).
"""

from demo.input.actions import Action, Brush, TOOL_ORDER
from demo.input.router import InputRouter, InputSink
from demo.input.viewport import Viewport

__all__ = ["Action", "Brush", "InputRouter", "InputSink", "TOOL_ORDER", "Viewport"]
