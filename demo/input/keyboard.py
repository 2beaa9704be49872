"""Keyboard shortcuts: one table, used both to handle keys and to list them in the help overlay."""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from demo.input.actions import Action
from demo.tools.brushes import BRUSHES

CTRL, SHIFT = 1, 2


@dataclass(frozen=True, kw_only=True)
class Shortcut:
    keys: str  # as shown in the help
    key: int
    mods: int = 0  # CTRL | SHIFT, matched exactly (Alt and locks are ignored)
    label: str
    action: Action
    at_cursor: bool = False  # the action's value is the image position under the pointer


def _tool(brush) -> Shortcut:
    """A brush's own shortcut (declared in the brush registry)."""
    key = getattr(pygame, f"K_{brush.shortcut}")
    return Shortcut(keys=brush.shortcut.upper(), key=key, label=brush.help, action=Action(name="tool", value=brush.name))


SHORTCUTS: tuple[Shortcut, ...] = (
    *(_tool(brush) for brush in BRUSHES.values()),
    Shortcut(keys="T", key=pygame.K_t, label="next tool", action=Action(name="tool_next")),
    Shortcut(keys="Ctrl+Z", key=pygame.K_z, mods=CTRL, label="undo", action=Action(name="command", value="undo")),
    Shortcut(keys="Backspace", key=pygame.K_BACKSPACE, label="undo", action=Action(name="command", value="undo")),
    Shortcut(keys="Ctrl+Y", key=pygame.K_y, mods=CTRL, label="redo", action=Action(name="command", value="redo")),
    Shortcut(keys="Ctrl+Shift+Z", key=pygame.K_z, mods=CTRL | SHIFT, label="redo", action=Action(name="command", value="redo")),
    Shortcut(keys="F", key=pygame.K_f, label="fix: keep the shown image as the anchor of later edits", action=Action(name="command", value="fix")),
    Shortcut(keys="N", key=pygame.K_n, label="new random start (clears the strokes)", action=Action(name="command", value="reset")),
    *(Shortcut(keys=str(i + 1), key=pygame.K_1 + i, label=f"show thumbnail {i + 1}", action=Action(name="pick", value=i))
      for i in range(8)),
    Shortcut(keys="Right", key=pygame.K_RIGHT, label="next thumbnail", action=Action(name="pick_step", value=1)),
    Shortcut(keys="Left", key=pygame.K_LEFT, label="previous thumbnail", action=Action(name="pick_step", value=-1)),
    Shortcut(keys="Down", key=pygame.K_DOWN, label="next palette color", action=Action(name="color_step", value=1)),
    Shortcut(keys="Up", key=pygame.K_UP, label="previous palette color", action=Action(name="color_step", value=-1)),
    Shortcut(keys="]", key=pygame.K_RIGHTBRACKET, label="bigger brush (or mouse wheel)", action=Action(name="size_step", value=1)),
    Shortcut(keys="[", key=pygame.K_LEFTBRACKET, label="smaller brush", action=Action(name="size_step", value=-1)),
    Shortcut(keys="I", key=pygame.K_i, label="eyedropper: take the color under the pointer (or right-click)",
             action=Action(name="eyedropper"), at_cursor=True),
    Shortcut(keys="O", key=pygame.K_o, label="show / hide the strokes", action=Action(name="toggle_overlay")),
    Shortcut(keys="V", key=pygame.K_v, label="photo with the edit / generated image", action=Action(name="toggle_view")),
    Shortcut(keys="Space", key=pygame.K_SPACE, label="play / pause the morph from the anchor", action=Action(name="morph_play")),
    Shortcut(keys="Ctrl+S", key=pygame.K_s, mods=CTRL, label="save PNG + session (never overwrites)", action=Action(name="save")),
    Shortcut(keys="G", key=pygame.K_g, label="live profile: frame-time graph and per-stage bars",
             action=Action(name="toggle_profile")),
    Shortcut(keys="H", key=pygame.K_h, label="this help", action=Action(name="toggle_help")),
    Shortcut(keys="F1", key=pygame.K_F1, label="this help", action=Action(name="toggle_help")),
    Shortcut(keys="F11", key=pygame.K_F11, label="fullscreen", action=Action(name="toggle_fullscreen")),
    Shortcut(keys="Esc", key=pygame.K_ESCAPE, label="close the help / leave the morph", action=Action(name="cancel")),
    Shortcut(keys="Ctrl+Q", key=pygame.K_q, mods=CTRL, label="quit", action=Action(name="quit")),
)

_BY_KEY = {(s.key, s.mods): s for s in SHORTCUTS}


def lookup(key: int, pygame_mods: int) -> Shortcut | None:
    """The shortcut for a KEYDOWN (key, mod), or None."""
    mods = (CTRL if pygame_mods & pygame.KMOD_CTRL else 0) | (SHIFT if pygame_mods & pygame.KMOD_SHIFT else 0)
    return _BY_KEY.get((key, mods))
