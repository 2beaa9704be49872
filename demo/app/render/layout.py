"""Where everything is, for a window size: canvas, morph bar, thumbnails, side panel. Pure geometry."""

from __future__ import annotations

from dataclasses import dataclass

from demo.input.actions import Action
from demo.input.viewport import Viewport
from demo.tools.brushes import BRUSHES

Rect = tuple[float, float, float, float]  # (x, y, width, height), window pixels, origin top-left

# Landscape-friendly colors: skies, sunsets, water, greens, earth, snow and night.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (120, 170, 235), (40, 90, 200), (20, 40, 90), (235, 130, 40),
    (250, 200, 80), (200, 60, 50), (150, 60, 120), (60, 140, 60),
    (30, 80, 35), (150, 170, 70), (120, 85, 50), (190, 160, 120),
    (250, 250, 250), (150, 150, 155), (60, 60, 65), (10, 10, 12),
)
BUTTONS: tuple[tuple[str, object], ...] = (
    ("Undo", Action(name="command", value="undo")), ("Redo", Action(name="command", value="redo")),
    ("Fix", Action(name="command", value="fix")), ("New", Action(name="command", value="reset")),
    ("Strokes", Action(name="toggle_overlay")), ("Photo", Action(name="toggle_view")),
    ("Save", Action(name="save")), ("Help", Action(name="toggle_help")),
)


@dataclass(frozen=True)
class Widget:
    rect: Rect
    target: Action
    label: str = ""
    slider: bool = False  # the action's value is the pointer's position along the widget (0..1)


@dataclass(frozen=True)
class Layout:
    size: tuple[int, int]
    canvas: Rect
    morph_button: Rect
    morph_track: Rect
    thumbnails: tuple[Rect, ...]
    panel: Rect
    size_preview: Rect
    tools: tuple[Widget, ...] = ()
    swatches: tuple[Widget, ...] = ()
    buttons: tuple[Widget, ...] = ()
    widgets: tuple[Widget, ...] = ()  # everything that takes a press, the groups above included

    @property
    def viewport(self) -> Viewport:
        return Viewport(*self.canvas)

    def widget_at(self, x: float, y: float) -> Widget | None:
        for widget in self.widgets:
            wx, wy, ww, wh = widget.rect
            if wx <= x < wx + ww and wy <= y < wy + wh:
                return widget
        return None


def compute_layout(size: tuple[int, int], *, thumbnails: int = 8, margin: float = 8.0) -> Layout:
    width, height = size
    gap = 4.0
    bar = 28.0
    panel_width = min(260.0, max(150.0, 0.25 * width))
    k = max(1, thumbnails)
    # The canvas and a row of k thumbnails as wide as the canvas share the height.
    side = min(width - panel_width - 3 * margin, (height - 4 * margin - bar + gap) * k / (k + 1))
    side = max(64.0, float(int(side)))
    thumb = (side - (k - 1) * gap) / k
    canvas = (margin, margin, side, side)
    bar_y = margin + side + margin
    morph_button = (margin, bar_y, bar, bar)
    morph_track = (margin + bar + gap, bar_y, side - bar - gap, bar)
    thumbs_y = bar_y + bar + margin
    thumbnails_rects = tuple((margin + i * (thumb + gap), thumbs_y, thumb, thumb) for i in range(k))

    # Side panel: tools, palette, brush size, buttons.
    px = margin + side + margin
    pw = max(60.0, width - px - margin)
    panel = (px, margin, pw, height - 2 * margin)
    half = (pw - gap) / 2
    y = margin
    tools = tuple(Widget((px + (i % 2) * (half + gap), y + (i // 2) * (30 + gap), half, 30), Action(name="tool", value=brush.name), brush.label)
                  for i, brush in enumerate(BRUSHES.values()))
    y += (len(tools) + 1) // 2 * (30 + gap) + margin
    columns = 4
    swatch = (pw - (columns - 1) * gap) / columns
    swatches = tuple(Widget((px + (i % columns) * (swatch + gap), y + (i // columns) * (swatch + gap), swatch, swatch),
                            Action(name="color", value=color)) for i, color in enumerate(PALETTE))
    y += (len(PALETTE) // columns) * (swatch + gap) + margin
    size_preview = (px, y, pw, 56.0)
    y += 56.0 + margin
    buttons = tuple(Widget((px + (i % 2) * (half + gap), y + (i // 2) * (28 + gap), half, 28), target, label)
                    for i, (label, target) in enumerate(BUTTONS))
    others = (Widget(morph_button, Action(name="morph_play"), "play"), Widget(morph_track, Action(name="morph_seek"), slider=True),
              *(Widget(rect, Action(name="pick", value=i)) for i, rect in enumerate(thumbnails_rects)))
    return Layout(size=(width, height), canvas=canvas, morph_button=morph_button, morph_track=morph_track,
                  thumbnails=thumbnails_rects, panel=panel, size_preview=size_preview, tools=tools, swatches=swatches,
                  buttons=buttons, widgets=tools + swatches + buttons + others)


class LayoutKeeper:
    """The layout of the window as it is now: computed again when the window's size changes."""

    def __init__(self, size: tuple[int, int], *, thumbnails: int):
        self.thumbnails = thumbnails
        self.layout = compute_layout(size, thumbnails=thumbnails)

    def follow(self, size: tuple[int, int]) -> bool:
        """Lay out for ``size``; True if the layout changed."""
        if self.layout.size == tuple(size):
            return False
        self.layout = compute_layout(size, thumbnails=self.thumbnails)
        return True
