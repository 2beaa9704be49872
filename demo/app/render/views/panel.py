"""The side panel: tools, palette, brush size preview and command buttons."""

from __future__ import annotations

from demo.app.render.layout import Layout
from demo.app.render.painter import Painter
from demo.input.actions import Brush
from demo.tools.brushes import BRUSHES

BUTTON = (0.2, 0.2, 0.23, 1.0)
BUTTON_ON = (0.32, 0.32, 0.4, 1.0)
ACTIVE = (0.95, 0.62, 0.2, 1.0)
TEXT = (0.92, 0.92, 0.94, 1.0)
DARK_TEXT = (0.05, 0.05, 0.05, 1.0)


class PanelView:
    def draw(self, painter: Painter, layout: Layout, *, brush: Brush, toggled: set[str]) -> None:
        """``toggled``: names of the toggle actions that are on (toggle_overlay, toggle_view)."""
        for widget in layout.tools:
            x, y, w, h = widget.rect
            active = brush.tool == widget.target.value
            painter.rect(widget.rect, ACTIVE if active else BUTTON, radius=5)
            painter.text(f"tool.{widget.label}", widget.label, (x + w / 2, y + h / 2), size=20,
                         color=DARK_TEXT if active else TEXT, anchor="center")
        for widget in layout.swatches:
            selected = tuple(widget.target.value) == tuple(brush.color)
            painter.rect(widget.rect, (*(c / 255 for c in widget.target.value), 1.0), radius=4,
                         border=3 if selected else 1, border_color=(1, 1, 1, 1) if selected else (0, 0, 0, 0.5))
        for widget in layout.buttons:
            x, y, w, h = widget.rect
            on = widget.target.name in toggled
            painter.rect(widget.rect, BUTTON_ON if on else BUTTON, radius=5)
            painter.text(f"button.{widget.label}", widget.label, (x + w / 2, y + h / 2), size=20, color=TEXT, anchor="center")
        # The brush: its color and its true size on the canvas.
        x, y, w, h = layout.size_preview
        painter.rect(layout.size_preview, (0.13, 0.13, 0.15, 1.0), radius=5)
        radius = min(h / 2 - 4, 0.5 * brush.width * layout.canvas[2])
        rgb = tuple(c / 255 for c in brush.color) if BRUSHES[brush.tool].uses_color else (0.8, 0.8, 0.8)
        painter.rect((x + h / 2 - radius, y + h / 2 - radius, 2 * radius, 2 * radius), (*rgb, 1.0), radius=radius)
        painter.text("panel.size", f"{brush.tool}  {brush.width * 100:.0f}%", (x + h + 4, y + h / 2 - 8), size=18, color=TEXT)
