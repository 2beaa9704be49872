"""UI actions (not part of the recorded edit) and the brush the next stroke is drawn with."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from demo.tools.brushes import TOOL_NAMES

TOOL_ORDER = TOOL_NAMES  # from the brush registry
MIN_WIDTH, MAX_WIDTH = 0.01, 0.4  # brush width, as a fraction of the image width

# The one action vocabulary of every input (keys, pointer on widgets, gamepad, drops) -> its value.
# "command" and "pick" change the edit: the router turns them into recorded session events.
ACTIONS = {
    "command": "a session command: fix, reset, undo or redo",
    "pick": "index of the thumbnail to show",
    "tool": "a tool name from TOOL_ORDER",
    "tool_next": "None",
    "color": "(r, g, b)",
    "color_step": "+1 / -1 through the palette",
    "eyedropper": "(u, v) image coordinates to take the color from",
    "size_step": "+1 / -1: grow or shrink the brush by a factor",
    "width": "the brush width, a fraction of the image width",
    "pick_step": "+1 / -1: show the next or previous thumbnail",
    "toggle_overlay": "None",
    "toggle_help": "None",
    "toggle_view": "None: photo with the edit <-> generated image",
    "toggle_fullscreen": "None",
    "morph_play": "None: play / pause the z0 -> current morph",
    "morph_seek": "0..1 position on the morph slider (from the pointer for the slider widget), or None to leave the morph",
    "save": "None",
    "load_photo": "a file path",
    "toggle_profile": "None: the live frame-time graph and per-stage bars",
    "cancel": "None: close the help, leave the morph",
    "quit": "None",
    "notice": "(text, kind, until): a message for the banner until the clock passes ``until``",
}
EDIT_ACTIONS = ("command", "pick")  # recorded as session events


@dataclass(frozen=True, kw_only=True)
class Action:
    name: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.name not in ACTIONS:
            raise ValueError(f"unknown action {self.name!r}; expected one of {', '.join(ACTIONS)}")


@dataclass(frozen=True, kw_only=True)
class Brush:
    """What the next stroke is drawn with; ``width`` is a fraction of the image width at full pressure."""

    tool: str = "color"
    color: tuple[int, int, int] = (235, 130, 40)
    width: float = 0.08

    def with_tool(self, tool: str) -> "Brush":
        if tool not in TOOL_ORDER:
            raise ValueError(f"unknown tool {tool!r}")
        return replace(self, tool=tool)

    def next_tool(self) -> "Brush":
        return replace(self, tool=TOOL_ORDER[(TOOL_ORDER.index(self.tool) + 1) % len(TOOL_ORDER)])

    def with_color(self, color) -> "Brush":
        return replace(self, color=tuple(int(max(0, min(255, c))) for c in color))

    def with_width(self, width: float) -> "Brush":
        return replace(self, width=float(min(MAX_WIDTH, max(MIN_WIDTH, width))))

    def scaled(self, steps: int, *, factor: float = 1.25) -> "Brush":
        return replace(self, width=float(min(MAX_WIDTH, max(MIN_WIDTH, self.width * factor ** steps))))
