"""What the kiosk asks of the app it runs in: a small interface that ``App`` satisfies (like ``InputSink``).

The kiosk is also handed the parts it drives directly (the input router, the edit controller); through
the host it only reads the clock and the UI state, sends actions down the app's one action path, and saves.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from demo.app.edit.ui_state import UiState
from demo.input.actions import Action


class KioskHost(Protocol):
    def clock(self) -> float:
        """The app's clock (seconds)."""

    @property
    def ui(self) -> UiState: ...

    def on_action(self, action: Action) -> None:
        """The app's action path: the reducer, then the action's effects."""

    def save(self) -> Path | None:
        """Save the picture as the Save button does; the path, or None if nothing was saved."""
