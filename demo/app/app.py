"""The interactive app: one window, one loop that never waits for the solver.

Each frame runs six separable stages, timed into a ``FrameRecord``:
input (pygame events -> session events/actions, replay), submit (the newest edit, at most one request),
poll (the newest fresh result, never blocking), upload (textures, stroke overlay), draw, present.
The solver runs in a worker (process by default) and spends each request's step budget there.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pygame

from demo.app.config import AppConfig, worker_threads
from demo.app.controller import EditController
from demo.app.layout import PALETTE, Layout, compute_layout
from demo.app.overlay import StrokeOverlay
from demo.app.painter import Painter
from demo.app.photo_edit import PhotoEdit
from demo.app.replay import ReplayFeeder
from demo.app.saving import save_result
from demo.app.timing import FrameRecord, FrameStats, StageTimer
from demo.app.views.banner import BannerView, summarise
from demo.app.views.canvas import CanvasView
from demo.app.views.help import HelpView
from demo.app.views.hud import HudView
from demo.app.views.morph import MorphBarView, slider_value
from demo.app.views.panel import PanelView
from demo.app.views.thumbnails import ThumbnailsView
from demo.app.window import Window
from demo.engine.worker import make_client
from demo.errors import UserError
from demo.input import Action, Brush, InputRouter, Viewport
from demo.input.pen import EvdevTablet, TouchPressure
from demo.tools.session import Event, SessionWriter, read_session

OVERLAY_OPACITY = 0.75
MORPH_SECONDS = 2.0  # one way, anchor -> current
HUD_PERIOD = 0.25  # seconds between HUD refreshes
MAX_RESTARTS = 3  # worker restarts allowed within a minute


class App:
    def __init__(self, config: AppConfig, *, client=None, clock=time.perf_counter):
        self.config = config
        self.clock = clock
        replay = read_session(config.replay) if config.replay is not None else None  # Fail before opening a window.
        self.window = Window(config.size, fullscreen=config.fullscreen)
        self.ctx = self.window.ctx
        self.painter = Painter(self.ctx)
        self.overlay = StrokeOverlay(self.ctx)
        self.canvas_view = CanvasView(self.ctx)
        self.thumbnails = ThumbnailsView(self.ctx)
        self.panel, self.morph_bar, self.hud = PanelView(), MorphBarView(), HudView()
        self.help, self.banner = HelpView(), BannerView()
        self.photo_edit: PhotoEdit | None = None  # created with the first photo
        self.client = client if client is not None else make_client(config.worker, torch_threads=worker_threads(config), nice=config.worker_nice)
        self.controller = EditController(self.client, model=config.model, device=config.device,
                                         candidates=config.candidates, seed=config.seed, steps=config.steps,
                                         top_k=config.top_k, chunk_seconds=config.chunk_seconds,
                                         morph_frames=config.morph_frames)
        self.brush = Brush()
        self.layout: Layout = compute_layout(self.window.size, thumbnails=config.top_k)
        self.router = InputRouter(self, clock=clock, touch_pressure=TouchPressure(), tablet=EvdevTablet.find())
        self.recorder = SessionWriter(config.record, meta=self._meta()) if config.record is not None else None
        self.replay = ReplayFeeder(replay) if replay is not None else None
        self.controller.auto_submit = self.replay is None
        self.show_overlay, self.show_help, self.show_photo = True, False, True
        self.morph_position: float | None = None
        self.morph_direction = 1.0
        self.morph_playing = False
        self.notice: tuple[str, str, float] | None = None  # (text, kind, until)
        self.stats = FrameStats()
        self.timer = StageTimer(clock)
        self.frame_index = 0
        self.running = True
        self.captured: np.ndarray | None = None
        self._slider_held = False
        self._hud_next = 0.0
        self._restarts: list[float] = []
        self.worker_restarts = 0
        self._worker_given_up = False
        self._hud_lines: list[str] = []
        self._last_start: float | None = None
        self._pacer = pygame.time.Clock()
        if config.photo is not None:
            self.on_action(Action(name="load_photo", value=str(config.photo)))

    # InputSink.
    @property
    def canvas(self) -> Viewport:
        return self.layout.viewport

    @property
    def window_size(self) -> tuple[int, int]:
        return self.window.size

    def on_event(self, event: Event, *, at: float) -> None:
        """A session event from live input (ignored while a replay is being fed)."""
        if self.replay is not None and not self.replay.done:
            return
        self._apply(event, at=at)

    def _apply(self, event: Event, *, at: float | None = None) -> None:
        self.controller.apply(event, at=at)
        if self.recorder is not None:
            self.recorder.write(event)
        if event.type in ("down", "command"):
            self.morph_position, self.morph_playing = None, False

    def press(self, x: float, y: float) -> bool:
        widget = self.layout.widget_at(x, y)
        if widget is None:
            return False
        target = widget.target
        if isinstance(target, Action):
            self.on_action(target)
        elif target[0] == "tool":
            self.on_action(Action(name="tool", value=target[1]))
        elif target[0] == "command":
            self.on_event(Event(t=self.router.now(), type="command", name=target[1]), at=self.clock())
        elif target[0] == "pick":
            if target[1] < self.thumbnails.count:
                self.on_event(Event(t=self.router.now(), type="command", name="pick", index=target[1]), at=self.clock())
        elif target[0] == "slider":
            self._slider_held = True
            self.on_action(Action(name="morph_seek", value=slider_value(self.layout.morph_track, x)))
        return True

    def drag(self, x: float, y: float) -> None:
        if self._slider_held:
            self.on_action(Action(name="morph_seek", value=slider_value(self.layout.morph_track, x)))

    def release(self, x: float, y: float) -> None:
        self._slider_held = False

    def on_action(self, action: Action) -> None:
        name, value = action.name, action.value
        if name == "tool":
            self.brush = self.brush.with_tool(value)
        elif name == "tool_next":
            self.brush = self.brush.next_tool()
        elif name == "color":
            self.brush = self.brush.with_color(value).with_tool("color")
        elif name == "color_step":
            index = PALETTE.index(self.brush.color) if self.brush.color in PALETTE else -value
            self.brush = self.brush.with_color(PALETTE[(index + value) % len(PALETTE)]).with_tool("color")
        elif name == "eyedropper":
            self._eyedropper(*value)
        elif name == "size_step":
            self.brush = self.brush.scaled(value)
        elif name == "pick_step":
            if self.thumbnails.count:
                index = (self.controller.shown_index() + value) % self.thumbnails.count
                self.on_event(Event(t=self.router.now(), type="command", name="pick", index=index), at=self.clock())
        elif name == "toggle_overlay":
            self.show_overlay = not self.show_overlay
        elif name == "toggle_help":
            self.show_help = not self.show_help
        elif name == "toggle_view":
            self.show_photo = not self.show_photo
        elif name == "toggle_fullscreen":
            self.window.toggle_fullscreen()
        elif name == "morph_play":
            self.morph_playing = not self.morph_playing and self.canvas_view.morph_frames > 0
            if self.morph_playing and self.morph_position is None:
                self.morph_position, self.morph_direction = 0.0, 1.0
        elif name == "morph_seek":
            self.morph_playing = False
            self.morph_position = value if self.canvas_view.morph_frames else None
        elif name == "save":
            self.save()
        elif name == "load_photo":
            self.load_photo(value)
        elif name == "cancel":
            self.show_help = False
            self.morph_position, self.morph_playing = None, False
        elif name == "quit":
            self.running = False

    def _eyedropper(self, u: float, v: float) -> None:
        result = self.controller.result
        if result is None or not len(result.images):
            return
        image = result.image
        size = image.shape[0]
        row, column = min(size - 1, int(v * size)), min(size - 1, int(u * size))
        self.brush = self.brush.with_color(tuple(int(c) for c in image[row, column])).with_tool("color")

    def _tell(self, text: str, kind: str = "notice", seconds: float = 4.0) -> None:
        self.notice = (text, kind, self.clock() + seconds)

    def load_photo(self, path: str | Path) -> None:
        from demo.tools.photo import load_photo

        try:
            photo = load_photo(path)
        except UserError as exc:
            self._tell(str(exc), "error", 8.0)
            return
        self.controller.load_photo(photo)
        if self.photo_edit is None:
            self.photo_edit = PhotoEdit(self.ctx)
        self.photo_edit.set_photo(photo)
        scaled = f"; {self.photo_edit.message}" if self.photo_edit.message else ""
        self._tell(f"loaded {Path(path).name} ({photo.shape[1]}x{photo.shape[0]}); projecting it onto the model{scaled}")

    def save(self) -> Path | None:
        result = self.controller.result
        if result is None or not len(result.images):
            self._tell("nothing to save yet")
            return None
        meta = {**self._meta(), "model_name": result.model_name, "stand_in": result.stand_in, "device": result.device,
                "candidates": result.candidates, "steps_done": result.steps_done, "slot": int(result.slots[result.current]),
                "loss": float(result.losses[result.current])}
        photo = self.photo_edit.render_full() if self._photo_shown() else None
        try:
            path = save_result(self.config.save_dir, image=result.image, events=self.controller.events, meta=meta,
                               photo_result=photo)
        except OSError as exc:
            self._tell(f"{self.config.save_dir}: cannot save ({exc.strerror or exc})", "error", 8.0)
            return None
        self._tell(f"saved {path}")
        return path

    def _meta(self) -> dict:
        return {"model": self.config.model, "seed": self.config.seed, "candidates": self.config.candidates}

    # The loop.
    def frame(self, *, capture: bool = False) -> FrameRecord:
        """One frame; with ``capture`` the drawn pixels are kept in ``self.captured`` (read before present).

        A frame in which nothing visible changed (no input, no result, no animation, HUD not due) is
        neither drawn nor presented, so an idle window leaves the CPU to the solver.
        """
        start = self.clock()
        dt = 0.0 if self._last_start is None else min(0.1, start - self._last_start)
        self._last_start = start
        record = FrameRecord(index=self.frame_index, start=start)
        self.timer.begin(record)
        changed = self._input(dt)
        self.timer.end("input")
        force = self.replay is not None and self.replay.take_submit()
        record.submitted = self.controller.submit(force=force)
        self.timer.end("submit")
        self._keep_worker_alive(start)
        result = self.controller.poll()
        record.new_result = result is not None and result.error is None
        self.timer.end("poll")
        if record.new_result:
            self.canvas_view.upload(result)
            self.thumbnails.upload(result)
            if self.photo_edit is not None and result.photo_image is not None and not result.projecting:
                self.photo_edit.submit(result.photo_image, result.image, now=start, settled=result.steps_left == 0)
        if self.photo_edit is not None:
            changed |= self.photo_edit.upload()
            if self.photo_edit.error:
                self._tell(self.photo_edit.error, "error", 8.0)
                self.photo_edit.error = None
        changed |= self.overlay.update(self.controller.state, int(self.layout.canvas[2]))
        self.timer.end("upload")
        hud_due, notice_changed = self._hud_due(start), self._notice_changed(start)
        changed |= result is not None or hud_due or notice_changed
        record.drawn = changed or capture
        if capture and self.config.hud:
            self._hud_lines = self.hud_lines()  # a screenshot shows current figures
        if record.drawn:
            self._draw()
            if capture:
                self.captured = self.window.read_pixels()
        self.timer.end("draw")
        if record.drawn:
            self.window.present()
        presented = self.timer.end("present")
        if record.drawn:
            self.controller.latency.presented(presented)
            self.stats.add(record)
        self.frame_index += 1
        return record

    def _input(self, dt: float) -> bool:
        """Route this frame's input, feed the replay and advance animations. True if anything may show."""
        events = pygame.event.get()
        cursor = self.router.cursor
        self.router.handle(events, dt=dt)
        changed = bool(events) or self.router.cursor != cursor
        if self.layout.size != self.window.size:
            self.layout = compute_layout(self.window.size, thumbnails=self.config.top_k)
            changed = True
        if self.replay is not None and not self.replay.done:
            self.replay.step(self.controller, self._apply)
            if self.replay.done:
                self.controller.auto_submit = True
            changed = True
        if self.morph_playing:
            position = (self.morph_position or 0.0) + self.morph_direction * dt / MORPH_SECONDS
            if not 0.0 <= position <= 1.0:
                self.morph_direction = -self.morph_direction
            self.morph_position = min(1.0, max(0.0, position))
            changed = True
        return changed

    def _keep_worker_alive(self, now: float) -> None:
        """A worker that died (killed, out of memory) is replaced, the window and the edit stay.
        After ``MAX_RESTARTS`` within a minute it is left down and the reason shown."""
        if self.client.alive or self._worker_given_up:
            return
        self._restarts = [t for t in self._restarts if now - t < 60.0] + [now]
        if len(self._restarts) > MAX_RESTARTS:
            self._worker_given_up = True
            self._tell("the solver keeps stopping; not restarting it again (see the terminal)", "error", 3600.0)
            return
        self._tell("the solver stopped unexpectedly; restarting it", "error", 5.0)
        self.controller.restart_worker()
        self.worker_restarts += 1

    def _hud_due(self, now: float) -> bool:
        """The HUD's figures are refreshed a few times a second (not every frame)."""
        if not self.config.hud or now < self._hud_next:
            return False
        self._hud_next = now + HUD_PERIOD
        self._hud_lines = self.hud_lines()
        return True

    def _notice_changed(self, now: float) -> bool:
        """True once when a notice expires (so that it disappears)."""
        if self.notice is not None and self.notice[2] <= now:
            self.notice = None
            return True
        return False

    def _draw(self) -> None:
        self.window.begin_frame()
        painter, layout, controller = self.painter, self.layout, self.controller
        painter.begin(self.window.size)
        result = controller.result
        message = None
        if result is None:
            message = "the engine failed (see above)" if controller.error else "loading the model..."
        self.canvas_view.draw(
            painter, layout.canvas, message=message,
            morph_position=self.morph_position,
            photo=(self.photo_edit.texture, self.photo_edit.crop) if self._photo_shown() else None,
            overlay=self.overlay.texture, overlay_opacity=OVERLAY_OPACITY if self.show_overlay else 0.0,
            progress=result.progress if result is not None and result.projecting else None,
        )
        self.thumbnails.draw(painter, layout.thumbnails)
        self.morph_bar.draw(painter, layout.morph_button, layout.morph_track, playing=self.morph_playing,
                            position=self.morph_position, available=self.canvas_view.morph_frames > 0)
        toggled = {name for name, on in (("toggle_overlay", self.show_overlay), ("toggle_view", self._photo_shown())) if on}
        self.panel.draw(painter, layout, brush=self.brush, toggled=toggled)
        if self.config.hud:
            self.hud.draw(painter, (layout.canvas[0] + 6, layout.canvas[1] + 6), self._hud_lines)
        cursor = self.router.cursor
        if cursor is not None and layout.viewport.contains(*cursor) and not self.show_help:
            gamepad = self.router.gamepad is not None and bool(self.router.gamepad.pads)
            self.canvas_view.draw_cursor(painter, cursor, 0.5 * self.brush.width * layout.canvas[2], crosshair=gamepad)
        if controller.error:
            self.banner.draw(painter, self.window.size[0], summarise(controller.error))
        elif self.notice is not None:
            self.banner.draw(painter, self.window.size[0], summarise(self.notice[0]), kind=self.notice[1])
        if self.show_help:
            self.help.draw(painter, self.window.size)

    def _photo_shown(self) -> bool:
        """The canvas shows the photo with the edit (a photo is loaded, rendered, and the view is on)."""
        return self.show_photo and self.photo_edit is not None and self.photo_edit.ready

    def hud_lines(self) -> list[str]:
        stats, result, latency = self.stats, self.controller.result, self.controller.latency
        lines = [f"{stats.fps():4.0f} fps drawn   frame p95 {stats.percentile(95) * 1000:5.1f} ms"]
        if result is not None:
            speed = 1.0 / result.step_seconds if result.step_seconds > 0 else 0.0
            lines.append(f"solver {speed:4.0f} steps/s  K={result.candidates}  step {result.steps_done} (+{result.steps_left})")
            lines.append(f"{result.model_name}{' (RANDOM stand-in)' if result.stand_in else ''} on {result.device}, "
                         f"{self.client.mode} worker")
        if latency.recent:
            lines.append(f"pen->image p50 {latency.percentile(50) * 1000:4.0f} ms  p95 {latency.percentile(95) * 1000:4.0f} ms")
        if self.replay is not None and not self.replay.done:
            lines.append(f"replaying {self.replay.position}/{len(self.replay.events)} events")
        return lines

    def pace(self) -> None:
        """Wait out the rest of the frame at ``max_fps`` when presenting does not wait for vsync."""
        if self.config.max_fps and not self.window.vsync:
            self._pacer.tick(self.config.max_fps)

    def done(self) -> bool:
        """A replay has been fed completely and the solver has spent its budget (or failed)."""
        return (self.replay is None or self.replay.done) and self.controller.idle

    def run(self) -> int:
        config = self.config
        try:
            while self.running:
                self.frame()
                if config.exit_after_frames is not None and self.frame_index >= config.exit_after_frames:
                    break
                if config.exit_when_done and self.done():
                    break
                self.pace()
            if config.screenshot is not None:
                self.screenshot(config.screenshot)
        finally:
            self.close()
        return 0

    def capture(self) -> np.ndarray:
        """Draw one more frame and return its pixels, [H, W, 3] uint8, row 0 at the top."""
        self.frame(capture=True)
        return self.captured

    def screenshot(self, path: str | Path) -> Path:
        import cv2

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), cv2.cvtColor(self.capture(), cv2.COLOR_RGB2BGR))
        return path

    def close(self) -> None:
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None
        self.router.close()
        self.controller.close()
        if self.photo_edit is not None:
            self.photo_edit.close()
        self.overlay.release()
        self.window.close()
