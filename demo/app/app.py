"""The interactive app: wiring. One window, one frame loop that never waits for the solver.

The worker (process by default) is started first, so that torch loads and the model's first image
renders while the window opens. Each frame is ``FrameLoop``'s sequence of timed stages: input
(pygame events -> session events and actions), rasterise (the stroke overlay, on the GPU), submit
(the newest edit, at most one request), poll (the newest fresh result, never blocking), upload,
draw, present. UI state changes through one reducer (``ui_state.reduce``); the morph, the worker
watchdog and the file jobs stand on their own.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pygame

from demo.app.autosave import Autosave
from demo.app.config import AppConfig, start_worker
from demo.app.controller import EditController
from demo.app.feeder import LiveFeeder
from demo.app.files import save_picture
from demo.app.frame_loop import FrameLoop, Pacer
from demo.app.layout import Layout, compute_layout
from demo.app.morph_player import MorphPlayer
from demo.app.photo_desk import PhotoDesk
from demo.app.replay import ReplayFeeder
from demo.app.scene import Scene
from demo.app.start_preview import load_start_preview
from demo.app.sdnotify import SystemdNotifier
from demo.app.timing import FrameRecord, FrameStats
from demo.app.ui_state import UiState, reduce
from demo.app.views.hud import hud_lines
from demo.app.views.morph import slider_value
from demo.app.watchdog import Watchdog, WatchdogConfig
from demo.app.window import Window
from demo.memory import keep_heap_compact
from demo.input import Action, InputRouter, Viewport
from demo.input.pen import EvdevTablet, TouchPressure
from demo.tools.session import Event, SessionWriter, read_session



class App:
    def __init__(self, config: AppConfig, *, client=None, clock=time.perf_counter, profiler=None):
        if config.worker == "process":  # not where the solver runs: see demo/memory.py
            keep_heap_compact()  # a window that runs all day must not creep up
        self.config = config
        self.clock = clock
        if profiler is None and config.profile is not None:
            from demo.profile.recorder import ProfileRecorder

            profiler = ProfileRecorder(config.profile, worker_mode=config.worker, clock=clock,
                                       settings={"model": config.model, "size": list(config.size), "seed": config.seed})
        self.profiler = profiler
        replay = read_session(config.replay) if config.replay is not None else None  # Fail before opening a window.
        feed = read_session(config.feed) if config.feed is not None else None
        # Start the worker first: torch loads and the first image renders while the window opens.
        self.client = client if client is not None else start_worker(config)
        self.controller = EditController(self.client, model=config.model, device=config.device,
                                         candidates=config.candidates, seed=config.seed, steps=config.steps,
                                         top_k=config.top_k, chunk_seconds=config.chunk_seconds,
                                         morph_frames=config.morph_frames, display=config.display)
        if replay is not None and isinstance(replay.meta.get("start"), int):
            self.controller.start_from(replay.meta["start"])  # a saved session starts where it started
        self.controller.submit()
        if config.gl_threads is not None:  # read by Mesa's software rasteriser when the context is made
            os.environ["LP_NUM_THREADS"] = str(config.gl_threads)
        self.window = Window(config.size, fullscreen=config.fullscreen)
        self.window_opened_at = clock()
        self.first_image_at: float | None = None
        self.ctx = self.window.ctx
        if profiler is not None:
            profiler.window_opened(clock(), gl_renderer=self.ctx.info.get("GL_RENDERER", ""))
        self.scene = Scene(self.ctx)
        # The engine's first image, shipped with the model, shown while the worker still imports torch.
        preview = load_start_preview(config.model, seed=config.seed) if config.photo is None else None
        if preview is not None:
            self.scene.canvas_view.show_preview(preview)
        self._preview_pending = preview is not None
        self.preview_at: float | None = None  # when the start preview was first on screen
        self.photos = PhotoDesk(self.ctx, controller=self.controller, tell=self._tell)
        self.ui = UiState()
        self.morph = MorphPlayer()
        self.watchdog = Watchdog(WatchdogConfig(hang_seconds=config.hang_seconds), clock=clock)
        self.layout: Layout = compute_layout(self.window.size, thumbnails=config.top_k)
        self.router = InputRouter(self, clock=clock, touch_pressure=TouchPressure(), tablet=EvdevTablet.find())
        self.recorder = SessionWriter(config.record, meta=self._meta()) if config.record is not None else None
        self.replay = ReplayFeeder(replay) if replay is not None else None
        self.feeder = LiveFeeder(feed, clock=clock) if feed is not None else None
        self.controller.auto_submit = self.replay is None
        self.stats = FrameStats()
        listeners = [self._keep_stats] + ([profiler.frame] if profiler is not None else [])
        self.loop = FrameLoop({
            "input": self._stage_input, "rasterise": self._stage_rasterise, "submit": self._stage_submit,
            "poll": self._stage_poll, "upload": self._stage_upload, "draw": self._stage_draw,
            "present": self._stage_present,
        }, pacer=Pacer(max_fps=config.max_fps, vsync=lambda: self.window.vsync, clock=clock,
                                               sleep=self._sleep), clock=clock,
            listeners=listeners)
        # Exhibition hooks (the logic lives in demo/app/kiosk.py, autosave.py and sdnotify.py).
        self.kiosk = None
        if config.kiosk is not None:
            from demo.app.kiosk import Kiosk

            self.kiosk = Kiosk(self, config.kiosk)
        self.autosave = Autosave(config.save_dir, seconds=config.autosave_seconds, clock=clock, meta=self._meta(),
                                 tell=lambda text: self._tell(text, "error", 8.0),
                                 paused=lambda: self.kiosk is not None and self.kiosk.attracting)
        self.systemd = SystemdNotifier.from_environ()
        self.loop.listeners += [lambda record: self.autosave.maybe_save(self.controller), self.systemd.frame]
        self._device_told = False
        self.captured: np.ndarray | None = None
        self.first_image_frame: int | None = None  # the frame that first showed a generated image
        self._capture = False
        self._slider_held = False
        self._last_start: float | None = None
        self._result: object | None = None  # this frame's new result
        if config.photo is not None:
            self.on_action(Action(name="load_photo", value=str(config.photo)))

    # Compatibility views of the state.
    @property
    def brush(self):
        return self.ui.brush

    @property
    def running(self) -> bool:
        return self.ui.running

    @property
    def notice(self):
        return self.ui.notice

    @property
    def frame_index(self) -> int:
        return self.loop.index

    @property
    def worker_restarts(self) -> int:
        return self.watchdog.restarts

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
            self.morph.leave()

    def press(self, x: float, y: float) -> bool:
        widget = self.layout.widget_at(x, y)
        if widget is None:
            return False
        if widget.slider:
            self._slider_held = True
            self.on_action(Action(name=widget.target.name, value=slider_value(self.layout.morph_track, x)))
        else:
            self.router.act(widget.target)
        return True

    def drag(self, x: float, y: float) -> None:
        if self._slider_held:
            self.on_action(Action(name="morph_seek", value=slider_value(self.layout.morph_track, x)))

    def release(self, x: float, y: float) -> None:
        self._slider_held = False

    def on_action(self, action: Action) -> None:
        """Every UI action goes through the reducer; those with effects outside the UI state also run them."""
        self.ui = reduce(self.ui, action)
        effect = self._EFFECTS.get(action.name)
        if effect is not None:
            effect(self, action.value)

    def _tell(self, text: str, kind: str = "notice", seconds: float = 4.0) -> None:
        self.on_action(Action(name="notice", value=(text, kind, self.clock() + seconds)))

    def _eyedropper(self, position) -> None:
        result = self.controller.result
        if result is None or not len(result.images) or position is None:
            return
        u, v = position
        size = result.image.shape[0]
        row, column = min(size - 1, int(v * size)), min(size - 1, int(u * size))
        self.on_action(Action(name="color", value=tuple(int(c) for c in result.image[row, column])))

    def _pick_step(self, step: int) -> None:
        if self.scene.thumbnails.count:
            index = (self.controller.shown_index() + step) % self.scene.thumbnails.count
            self.router.act(Action(name="pick", value=index))

    def load_photo(self, path: str | Path, *, wait: bool = False) -> None:
        self.photos.open(path, wait=wait)

    def save(self) -> Path | None:
        photo = self.photos.edit.render_full() if self.photos.shown(self.ui.show_photo) else None
        path, message = save_picture(self.config.save_dir, result=self.controller.result, events=self.controller.events,
                                     meta=self._meta(), photo_result=photo)
        self._tell(message, "notice" if path is not None or self.controller.result is None else "error",
                   4.0 if path is not None else 8.0)
        if self.kiosk is not None:  # kiosk hook: a big 'saved' confirmation
            self.kiosk.saved(path, message)
        return path

    _EFFECTS = {
        "eyedropper": _eyedropper,
        "pick_step": _pick_step,
        "toggle_fullscreen": lambda self, value: self.window.toggle_fullscreen(),
        "morph_play": lambda self, value: self.morph.toggle(available=self.scene.canvas_view.morph_frames > 0),
        "morph_seek": lambda self, value: self.morph.seek(value, available=self.scene.canvas_view.morph_frames > 0),
        "cancel": lambda self, value: self.morph.leave(),
        "save": lambda self, value: self.save(),
        "load_photo": lambda self, value: self.load_photo(value),
    }

    def _meta(self) -> dict:
        # ``start``: how many fresh starts came before this session's strokes (a kiosk clears its history at each).
        return {"model": self.config.model, "seed": self.config.seed, "candidates": self.config.candidates,
                "start": self.controller.session_start}

    # The frame's stages.
    def frame(self, *, capture: bool = False) -> FrameRecord:
        """One frame; with ``capture`` the drawn pixels are kept in ``self.captured`` (read before present).

        A frame in which nothing visible changed (no input, no result, no animation, HUD not due) is
        neither drawn nor presented, so an idle window leaves the CPU to the solver.
        """
        self._capture = capture
        return self.loop.tick()

    def _stage_input(self, record: FrameRecord) -> None:
        """Route this frame's input, feed a replay or a live session, advance animations."""
        dt = 0.0 if self._last_start is None else min(0.1, record.start - self._last_start)
        self._last_start = record.start
        events = pygame.event.get()
        if self.kiosk is not None:  # kiosk hook: drops what a visitor may not do, notes activity
            events = self.kiosk.screen(events, record.start)
        cursor = self.router.cursor
        self.router.handle(events, dt=dt)
        changed = bool(events) or self.router.cursor != cursor or self._preview_pending
        if self.layout.size != self.window.size:
            self.layout = compute_layout(self.window.size, thumbnails=self.config.top_k)
            changed = True
        if self.replay is not None and not self.replay.done:
            self.replay.step(self.controller, self._apply)
            if self.replay.done:
                self.controller.auto_submit = True
            changed = True
        if self.feeder is not None and not self.feeder.done:
            self.feeder.feed(self.router, self.on_action)
            changed = True
        if self.kiosk is not None:  # kiosk hook: idle reset, attract loop, exit chord
            changed |= self.kiosk.tick(record.start)
        changed |= self.morph.advance(dt)
        expired = self.ui.expire(record.start)
        changed |= expired is not self.ui
        self.ui = expired
        record.changed = changed

    def _stage_rasterise(self, record: FrameRecord) -> None:
        """The strokes into the overlay layer, on the GPU (the solver's raster is built in the worker)."""
        record.changed |= self.scene.overlay.update(self.controller.state, int(self.layout.canvas[2]))

    def _stage_submit(self, record: FrameRecord) -> None:
        force = self.replay is not None and self.replay.take_submit()
        record.submitted = self.controller.submit(force=force)

    def _stage_poll(self, record: FrameRecord) -> None:
        self._keep_worker_alive()
        result = self.controller.poll()
        self._result = result
        if result is not None:
            self.watchdog.result_arrived()
            if not self._device_told and result.error is None and result.device:
                self._device_told = True  # --device auto without a GPU runs on the CPU, and says so
                if self.config.device == "auto" and result.device == "cpu":
                    self._tell("no GPU found: running on the CPU (fewer candidates, slower)", "notice", 6.0)
            if self.profiler is not None:
                self.profiler.result(result, self.clock())
        for text in self.controller.take_notices():  # ignored picks, K lowered after running out of GPU memory
            self._tell(text, "notice", 6.0)
        record.new_result = result is not None and result.error is None
        record.changed |= result is not None

    def _stage_upload(self, record: FrameRecord) -> None:
        record.changed |= self.photos.take_opened()
        if record.new_result:
            self.scene.upload(self._result, now=record.start)
            self.photos.follow(self._result, now=record.start)
        record.changed |= self.scene.refresh(record.start)
        record.changed |= self.photos.upload()

    def _stage_draw(self, record: FrameRecord) -> None:
        hud_due = self.config.hud and self.scene.hud_due(record.start, self._hud)
        if not record.changed and (hud_due or self.ui.show_profile):
            record.changed = record.overlay_only = True
        record.drawn = record.changed or self._capture
        if self._capture and self.config.hud:
            self.scene.hud_lines = self._hud()  # a screenshot shows current figures
        if record.drawn:
            self._draw()
            if self._capture:
                self.captured = self.window.read_pixels()

    def _stage_present(self, record: FrameRecord) -> None:
        if not record.drawn:
            return
        self.window.present()
        record.shown_inputs = self.controller.latency.presented(self.clock())
        if self._preview_pending:
            self._preview_pending = False
            self.preview_at = self.clock()
            if self.profiler is not None:
                self.profiler.preview_shown(self.preview_at)
        result = self.controller.result
        if result is not None:
            record.steps_done = result.steps_done
            if self.first_image_frame is None and len(result.images) and not result.projecting:
                self.first_image_frame = record.index
                self.first_image_at = self.clock()
                if self.feeder is not None:
                    self.feeder.start(self.clock())
                if self.profiler is not None:
                    self.profiler.first_image(self.clock())

    def _keep_stats(self, record: FrameRecord) -> None:
        # A frame drawn only to refresh the HUD's own figures is not counted in them: they settle when idle.
        if record.drawn and not record.overlay_only:
            self.stats.add(record)

    def _keep_worker_alive(self) -> None:
        """A worker that died or hangs is replaced (with back-off, never for good); the window and the edit stay."""
        pending = not self.controller.idle and self.controller.submitted_stamp is not None
        reason = self.watchdog.check(alive=self.client.alive, pending=pending)
        if reason is None:
            return
        self._tell(f"the solver {reason}; restarting it", "error", 5.0)
        self.controller.restart_worker()

    def _hud(self) -> list[str]:
        return hud_lines(stats=self.stats, result=self.controller.result, latency=self.controller.latency,
                         worker_mode=self.client.mode, replay=self.replay)

    def _draw(self) -> None:
        gamepad = self.router.gamepad is not None and bool(self.router.gamepad.pads)
        kiosk = self.kiosk  # kiosk hook: big hints for visitors
        self.scene.draw(
            screen=self.window.framebuffer, window_size=self.window.size, layout=self.layout, ui=self.ui, result=self.controller.result,
            error=self.controller.error, morph=self.morph,
            photo=self.photos.shown(self.ui.show_photo),
            hud=self.config.hud, records=self.stats.records, cursor=self.router.cursor, crosshair=gamepad,
            extra=None if kiosk is None else (lambda painter: kiosk.draw(painter, self.window.size, self.layout.canvas)))

    # Running.
    def _sleep(self, seconds: float) -> None:
        """The pacer's sleep: a result that arrives ends it, so that it is shown now, not a frame later."""
        self.client.sleep(seconds)

    def pace(self) -> None:
        """Sleep out the rest of the last frame (also with vsync, when nothing was presented)."""
        if self.loop.last is not None:
            self.loop.pacer.wait(self.loop.last)

    def done(self) -> bool:
        """A replay or live feed has been fed completely and the solver has spent its budget (or failed)."""
        fed = (self.replay is None or self.replay.done) and (self.feeder is None or self.feeder.done)
        return fed and self.controller.idle

    def _keep_going(self, record: FrameRecord) -> bool:
        config = self.config
        if not self.ui.running:
            return False
        if config.exit_after_frames is not None and self.first_image_frame is not None \
                and record.index - self.first_image_frame + 1 >= config.exit_after_frames:
            return False
        if config.exit_after_seconds is not None and self.clock() - self.loop.first_start >= config.exit_after_seconds:
            return False
        return not (config.exit_when_done and self.done())

    def run(self) -> int:
        try:
            self.loop.run(self._keep_going)
            if self.config.screenshot is not None:
                self.screenshot(self.config.screenshot)
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
        if self.kiosk is not None:
            self.kiosk.close()
        self.autosave.close()
        self.systemd.close()
        self.controller.close()
        self.photos.close()
        self.scene.release()
        self.window.close()
        if self.profiler is not None:
            self.profiler.close()
