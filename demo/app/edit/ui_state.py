"""The UI's state around the edit, and the one pure reducer that changes it (no pygame, no GL).

``reduce(state, action) -> state`` handles every ``Action`` that only changes what the UI shows or
what the next stroke is drawn with. Actions with effects outside the UI state (saving, loading a
photo, fullscreen, the morph player, edit commands) are the App's; the reducer leaves the state as
it is for them, so every action can go through it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from demo.app.render.layout import PALETTE
from demo.input.actions import Action, Brush


@dataclass(frozen=True, kw_only=True)
class Notice:
    text: str
    kind: str = "notice"  # notice | error
    until: float = 0.0  # clock time when it disappears


@dataclass(frozen=True, kw_only=True)
class UiState:
    brush: Brush = Brush()
    show_overlay: bool = True  # the strokes over the image
    show_help: bool = False
    show_photo: bool = True  # a loaded photo with the edit carried onto it (else the generated image)
    show_profile: bool = False  # the live frame-time graph
    running: bool = True
    notice: Notice | None = None

    def expire(self, now: float) -> "UiState":
        """Drop a notice whose time has passed."""
        if self.notice is not None and self.notice.until <= now:
            return replace(self, notice=None)
        return self


def _color_step(state: UiState, step: int) -> UiState:
    brush = state.brush
    index = PALETTE.index(brush.color) if brush.color in PALETTE else -step
    return replace(state, brush=brush.with_color(PALETTE[(index + step) % len(PALETTE)]).with_tool("color"))


_REDUCERS = {
    "tool": lambda s, v: replace(s, brush=s.brush.with_tool(v)),
    "tool_next": lambda s, v: replace(s, brush=s.brush.next_tool()),
    "color": lambda s, v: replace(s, brush=s.brush.with_color(v).with_tool("color")),
    "color_step": _color_step,
    "size_step": lambda s, v: replace(s, brush=s.brush.scaled(v)),
    "width": lambda s, v: replace(s, brush=s.brush.with_width(v)),
    "toggle_overlay": lambda s, v: replace(s, show_overlay=not s.show_overlay),
    "toggle_help": lambda s, v: replace(s, show_help=not s.show_help),
    "toggle_view": lambda s, v: replace(s, show_photo=not s.show_photo),
    "toggle_profile": lambda s, v: replace(s, show_profile=not s.show_profile),
    "cancel": lambda s, v: replace(s, show_help=False),
    "quit": lambda s, v: replace(s, running=False),
    "notice": lambda s, v: replace(s, notice=Notice(text=v[0], kind=v[1], until=v[2])),
}


def reduce(state: UiState, action: Action) -> UiState:
    """The UI state after ``action`` (the same state for actions that are not the UI's)."""
    handler = _REDUCERS.get(action.name)
    return state if handler is None else handler(state, action.value)


class UiStore:
    """The current UI state. It changes only through ``reduce`` (``dispatch``) and a notice's expiry."""

    def __init__(self, state: UiState = UiState()):
        self.state = state

    def dispatch(self, action: Action) -> None:
        self.state = reduce(self.state, action)

    def expire(self, now: float) -> bool:
        """Drop a notice whose time has passed; True if that changed the state."""
        expired = self.state.expire(now)
        changed = expired is not self.state
        self.state = expired
        return changed
