"""Every shortcut: keyboard (from the one table in demo.input.keyboard), mouse, pen and gamepad."""

from __future__ import annotations

from demo.app.render.painter import Painter
from demo.input.gamepad import HELP_LINES as GAMEPAD_LINES
from demo.input.keyboard import SHORTCUTS

POINTER_LINES = (
    ("left drag", "draw with the current tool (pen: pressure sets the width)"),
    ("right click", "eyedropper"),
    ("wheel", "brush size"),
    ("drop a file", "load a photo to edit"),
    ("thumbnail click", "show that candidate"),
)


def help_lines() -> list[tuple[str, str]]:
    seen = set()
    keys = []
    for shortcut in SHORTCUTS:
        pick = shortcut.action.name == "pick"
        if pick and shortcut.action.value:
            continue  # "1" stands for 1..8
        label = "show thumbnail 1..8" if pick else shortcut.label
        key = "1..8" if pick else shortcut.keys
        if (key, label) not in seen:
            seen.add((key, label))
            keys.append((key, label))
    return keys


class HelpView:
    def draw(self, painter: Painter, size: tuple[int, int]) -> None:
        width, height = size
        painter.rect((0, 0, width, height), (0.03, 0.03, 0.05, 0.88))
        columns = (("Keyboard", help_lines()), ("Mouse & pen", list(POINTER_LINES)), ("Gamepad", list(GAMEPAD_LINES)))
        line = 17
        x, y = 20.0, 16.0
        column_width = (width - 40) / 2
        for title, rows in columns:
            needed = line * (len(rows) + 2)
            if y + needed > height and x < width / 2:
                x, y = 20.0 + column_width, 16.0
            painter.text(f"help.title.{title}", title, (x, y), size=22, color=(1, 0.8, 0.4, 1))
            y += line + 6
            for i, (key, label) in enumerate(rows):
                painter.text(f"help.{title}.key.{i}", key, (x, y), size=17, color=(1, 1, 1, 1))
                painter.text(f"help.{title}.label.{i}", label, (x + 100, y), size=17, color=(0.85, 0.85, 0.85, 1))
                y += line
            y += 10
