"""Everything the window shows, drawn from the app's state (ModernGL through ``Painter``; no tensors).

``Scene`` owns the painter and the views. ``draw`` records one frame from what it is handed and
renders what changed since the last frame (``Painter.render``): straight into the window while its
back buffer is known to keep the last frame (``back_buffer.py``), else into a persistent layer that
is then copied to the window. The HUD's figures are refreshed at most ``HUD_PERIOD`` apart, and
count as a change only when they differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from demo.app.edit.ui_state import UiState
from demo.app.render.back_buffer import code_box
from demo.app.render.layout import Layout
from demo.app.render.overlay import StrokeOverlay
from demo.app.render.painter import Painter
from demo.app.render.views.banner import BannerView, summarise
from demo.app.render.views.canvas import CanvasView
from demo.app.render.views.help import HelpView
from demo.app.render.views.hud import HudView
from demo.app.render.views.morph import MorphBarView
from demo.app.render.views.panel import PanelView
from demo.app.render.views.profile_graph import ProfileGraphView
from demo.app.render.views.thumbnails import ThumbnailsView
from demo.gl import RenderTarget

OVERLAY_OPACITY = 0.75
HUD_PERIOD = 0.25  # seconds between HUD refreshes
BACKGROUND = (0.09, 0.09, 0.1, 1.0)


@dataclass(frozen=True, kw_only=True)
class FrameView:
    """What one frame shows, gathered by the draw stage: everything ``Scene.draw`` reads."""

    window_size: tuple[int, int]
    layout: Layout
    ui: UiState
    result: Any  # the shown EditResult, or None before the first
    error: str | None
    morph: Any  # the MorphPlayer: position and playing
    photo: Any  # (texture, uv) of the photo with the edit, or None
    hud: bool
    records: Sequence = ()  # recent FrameRecords, for the live frame-time graph
    cursor: tuple[float, float] | None = None
    crosshair: bool = False
    extra: Callable[[Painter], None] | None = None  # drawn last but the help (the kiosk's hints)


class Scene:
    def __init__(self, ctx):
        self.ctx = ctx
        self.painter = Painter(ctx)
        self.layer = RenderTarget(ctx)  # the window's pixels as last drawn, where the window does not keep them
        self.target = "layer"  # where the painter's last frame was drawn: "layer" or "window"
        self.overlay = StrokeOverlay(ctx)
        self.canvas_view = CanvasView(ctx)
        self.thumbnails = ThumbnailsView(ctx)
        self.panel, self.morph_bar, self.hud = PanelView(), MorphBarView(), HudView()
        self.help, self.banner, self.profile_graph = HelpView(), BannerView(), ProfileGraphView()
        self.hud_lines: list[str] = []
        self._hud_next = 0.0

    def upload(self, result, *, now: float) -> None:
        self.canvas_view.upload(result)
        self.thumbnails.upload(result, now=now)

    def refresh(self, now: float) -> bool:
        """Show what was held back until due (the thumbnails); True if the frame must be drawn."""
        return self.thumbnails.refresh(now)

    def hud_due(self, now: float, lines: Callable[[], list[str]]) -> bool:
        """Refresh the HUD's figures if due; True if they changed (the frame must be drawn)."""
        if now < self._hud_next:
            return False
        self._hud_next = now + HUD_PERIOD
        fresh = lines()
        changed, self.hud_lines = fresh != self.hud_lines, fresh
        return changed

    def shown_counts(self) -> tuple[int, int]:
        """(candidates the thumbnails show, morph frames the canvas holds: 0 is no morph to play)."""
        return self.thumbnails.count, self.canvas_view.morph_frames

    def draw(self, window, frame: FrameView) -> None:
        """One frame onto ``window`` (the app's Window), as ``frame`` describes it."""
        painter = self.painter
        layout, ui, morph, result = frame.layout, frame.ui, frame.morph, frame.result
        painter.begin(frame.window_size)
        message = None
        if result is None:
            message = "the engine failed (see above)" if frame.error else "loading the model..."
        self.canvas_view.draw(
            painter, layout.canvas, message=message, morph_position=morph.position, photo=frame.photo,
            overlay=self.overlay.texture, overlay_opacity=OVERLAY_OPACITY if ui.show_overlay else 0.0,
            progress=result.progress if result is not None and result.projecting else None,
        )
        self.thumbnails.draw(painter, layout.thumbnails)
        self.morph_bar.draw(painter, layout.morph_button, layout.morph_track, playing=morph.playing,
                            position=morph.position, available=self.canvas_view.morph_frames > 0)
        toggled = {name for name, on in (("toggle_overlay", ui.show_overlay), ("toggle_view", frame.photo is not None)) if on}
        self.panel.draw(painter, layout, brush=ui.brush, toggled=toggled)
        if frame.hud:
            self.hud.draw(painter, (layout.canvas[0] + 6, layout.canvas[1] + 6), self.hud_lines)
        if ui.show_profile:
            self.profile_graph.draw(painter, layout.canvas, list(frame.records))
        cursor = frame.cursor
        if cursor is not None and layout.viewport.contains(*cursor) and not ui.show_help:
            self.canvas_view.draw_cursor(painter, cursor, 0.5 * ui.brush.width * layout.canvas[2], crosshair=frame.crosshair)
        if frame.error:
            self.banner.draw(painter, frame.window_size[0], summarise(frame.error))
        elif ui.notice is not None:
            self.banner.draw(painter, frame.window_size[0], summarise(ui.notice.text), kind=ui.notice.kind)
        if frame.extra is not None:
            frame.extra(painter)
        if ui.show_help:
            self.help.draw(painter, frame.window_size)
        self._render(window)

    def _render(self, window) -> None:
        """What changed, into the window when it kept the last frame, else into the layer and copied."""
        painter = self.painter
        if window.back_buffer.enabled:
            if not window.holds_last_frame() or self.target != "window":
                painter.invalidate()  # the window's pixels are not the painter's last frame: draw it whole
            self.target = "window"
            painter.render(window, background=BACKGROUND, also=(code_box(window.size),))
            return
        if self.layer.ensure(tuple(window.size)) or self.target != "layer":
            painter.invalidate()
        self.target = "layer"
        painter.render(self.layer, background=BACKGROUND)
        self.ctx.copy_framebuffer(window.framebuffer, self.layer.fbo)

    def release(self) -> None:
        self.overlay.release()
        self.layer.release()
