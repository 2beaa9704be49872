"""The interactive app: wiring. One window, one frame loop that never waits for the solver.

The worker (process by default) starts first, so that torch loads while the window opens. Each frame is
``FrameLoop``'s sequence of timed stages (``demo/app/loop/stages.py``: input, rasterise, submit, poll,
upload, draw, present), each built from the parts it uses. UI state changes through one reducer
(``UiStore``); what actions do beyond it is in ``edit/effects.py``. ``App`` builds the parts, takes input
(``InputSink``), hosts the kiosk (``KioskHost``), answers ``status()`` and runs.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from demo.app.config import AppConfig, start_worker
from demo.app.edit.autosave import Autosave
from demo.app.edit.controller import EditController
from demo.app.edit.effects import Effects
from demo.app.edit.feeder import LiveFeeder
from demo.app.edit.files import save_picture, write_image
from demo.app.edit.morph_player import MorphPlayer
from demo.app.edit.replay import ReplayFeeder
from demo.app.edit.ui_state import UiState, UiStore
from demo.app.kiosk.sdnotify import SystemdNotifier
from demo.app.loop.frame_loop import FrameLoop, Pacer
from demo.app.loop import stages
from demo.app.loop.start_preview import load_start_preview
from demo.app.loop.startup import StartupMarks
from demo.app.loop.timing import FrameRecord, FrameStats
from demo.app.loop.watchdog import Watchdog, WatchdogConfig
from demo.app.photo.desk import PhotoDesk
from demo.app.render.layout import Layout, LayoutKeeper
from demo.app.render.scene import Scene
from demo.app.render.views.morph import slider_value
from demo.app.render.window import Window
from demo.app.status import AppStatus
from demo.input import Action, InputRouter, Viewport
from demo.input.pen import EvdevTablet, TouchPressure
from demo.memory import keep_heap_compact
from demo.tools.session import Event, SessionWriter, read_session


class App:
    def __init__(self, config: AppConfig, *, client=None, clock=time.perf_counter, profiler=None, listeners=()):
        """``listeners`` are called with each frame's ``FrameRecord`` (benches and the soak watch the frames so)."""
        if config.worker == "process":  # not where the solver runs: see demo/memory.py
            keep_heap_compact()  # a window that runs all day must not creep up
        self.config = config
        self.clock = clock
        if profiler is None and config.profile is not None:
            from demo.profile.recorder import ProfileRecorder

            profiler = ProfileRecorder.for_app(config, clock=clock)
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
        self.ctx = self.window.ctx
        if profiler is not None:
            profiler.window_opened(clock(), gl_renderer=self.ctx.info.get("GL_RENDERER", ""))
        self.scene = Scene(self.ctx)
        # The engine's first image, shipped with the model, shown while the worker still imports torch.
        preview = load_start_preview(config.model, seed=config.seed) if config.photo is None else None
        if preview is not None:
            self.scene.canvas_view.show_preview(preview)
        self.startup = StartupMarks(clock=clock, preview_pending=preview is not None)
        if profiler is not None:
            self.startup.listeners.append(profiler.startup_mark)
        self.photos = PhotoDesk(self.ctx, controller=self.controller, tell=self.tell, canvas_side=lambda: self.layout.canvas[2])
        self.store = UiStore()
        self.morph = MorphPlayer()
        self.watchdog = Watchdog(WatchdogConfig(hang_seconds=config.hang_seconds), clock=clock)
        self.layouts = LayoutKeeper(self.window.size, thumbnails=config.top_k)
        self.router = InputRouter(self, clock=clock, touch_pressure=TouchPressure(), tablet=EvdevTablet.find())
        self.effects = Effects(controller=self.controller, scene=self.scene, router=self.router, morph=self.morph,
                               window=self.window, dispatch=self.on_action, save=self.save, load_photo=self.load_photo)
        self.recorder = SessionWriter(config.record, meta=self._meta()) if config.record is not None else None
        self.replay = ReplayFeeder(replay) if replay is not None else None
        self.feeder = LiveFeeder(feed, clock=clock) if feed is not None else None
        if self.feeder is not None:  # a live session is fed once there is an image to paint on
            self.startup.listeners.append(self.feeder.startup_mark)
        self.controller.auto_submit = self.replay is None
        self.stats = FrameStats()
        # Exhibition hooks (the logic lives in demo/app/kiosk/, and edit/autosave.py).
        self.systemd = SystemdNotifier.from_environ()
        self.kiosk = None
        if config.kiosk is not None:
            from demo.app.kiosk.kiosk import Kiosk

            self.kiosk = Kiosk(self, config.kiosk, router=self.router, controller=self.controller, model=config.model,
                               sessions=config.attract_sessions, notify=self.systemd.notify, restarts=lambda: self.watchdog.restarts)
        self.autosave = Autosave(config.save_dir, seconds=config.autosave_seconds, clock=clock, meta=self._meta(),
                                 tell=lambda text: self.tell(text, "error", 8.0),
                                 paused=lambda: self.kiosk is not None and self.kiosk.attracting)
        self.loop = self._build_loop(listeners)
        self._slider_held = False
        if config.photo is not None:
            self.on_action(Action(name="load_photo", value=str(config.photo)))

    def _build_loop(self, listeners) -> FrameLoop:
        """The frame's stages, each from the parts it uses, and the listeners of each frame's record."""
        clock, controller, router, scene = self.clock, self.controller, self.router, self.scene
        poll = stages.PollStage(controller=controller, watchdog=self.watchdog, client=self.client, clock=clock,
                                tell=self.tell, profiler=self.profiler)
        self._draw = stages.DrawStage(scene=scene, window=self.window, layouts=self.layouts, store=self.store,
                                      controller=controller, router=router, morph=self.morph, photos=self.photos,
                                      stats=self.stats, client=self.client, hud=self.config.hud, kiosk=self.kiosk,
                                      replay=self.replay)
        table = stages.stage_table(
            input=stages.InputStage(router=router, window=self.window, layouts=self.layouts, store=self.store,
                                    morph=self.morph, startup=self.startup, controller=controller,
                                    apply_event=self.apply_event, dispatch=self.on_action, kiosk=self.kiosk,
                                    replay=self.replay, feeder=self.feeder),
            rasterise=stages.RasteriseStage(overlay=scene.overlay, controller=controller, layouts=self.layouts),
            submit=stages.SubmitStage(controller=controller, replay=self.replay), poll=poll,
            upload=stages.UploadStage(scene=scene, photos=self.photos, poll=poll), draw=self._draw,
            present=stages.PresentStage(window=self.window, controller=controller, startup=self.startup, clock=clock))
        sleep = lambda seconds: self.client.sleep(seconds)  # noqa: E731 - a result ends it: shown now, not a frame later
        pacer = Pacer(max_fps=self.config.max_fps, vsync=lambda: self.window.vsync, clock=clock, sleep=sleep)
        watchers = [self._keep_stats, *([self.profiler.frame] if self.profiler is not None else []),
                    lambda record: self.autosave.maybe_save(controller), self.systemd.frame, *listeners]
        return FrameLoop(table, pacer=pacer, clock=clock, listeners=watchers)

    # State.
    @property
    def ui(self) -> UiState:
        return self.store.state

    @property
    def layout(self) -> Layout:
        return self.layouts.layout

    def status(self) -> AppStatus:
        """What a bench, the soak or an operator may read of the running app, in one snapshot."""
        startup, controller = self.startup, self.controller
        return AppStatus(
            running=self.ui.running, result=controller.result, error=controller.error, idle=controller.idle,
            notice=self.ui.notice, frames=self.loop.index, window_opened_at=self.window_opened_at,
            preview_at=startup.preview_at, first_image_at=startup.first_image_at,
            first_image_frame=startup.first_image_frame, worker_mode=self.client.mode,
            vsync=bool(self.window.vsync), solver_restarts=self.watchdog.restarts,
            autosave_writes=self.autosave.writes, kiosk=None if self.kiosk is None else self.kiosk.counts())

    # InputSink.
    @property
    def brush(self):
        return self.ui.brush

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
        self.apply_event(event, at=at)

    def apply_event(self, event: Event, *, at: float | None = None) -> None:
        """Apply a session event to the edit (and the recording); a new stroke or command leaves the morph."""
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
        self.store.dispatch(action)
        self.effects.run(action)

    def tell(self, text: str, kind: str = "notice", seconds: float = 4.0) -> None:
        self.on_action(Action(name="notice", value=(text, kind, self.clock() + seconds)))

    def load_photo(self, path: str | Path, *, wait: bool = False) -> None:
        self.photos.open(path, wait=wait)

    def save(self) -> Path | None:
        photo = self.photos.edit.render_full() if self.photos.shown(self.ui.show_photo) else None
        path, message = save_picture(self.config.save_dir, result=self.controller.result, events=self.controller.events,
                                     meta=self._meta(), photo_result=photo)
        if self.kiosk is not None:  # the kiosk confirms in its own words: no file path on a visitor's screen
            return self.kiosk.saved(path, message)
        self.tell(message, "notice" if path is not None or self.controller.result is None else "error",
                  4.0 if path is not None else 8.0)
        return path

    def _meta(self) -> dict:
        # ``start``: how many fresh starts came before this session's strokes (a kiosk clears its history at each).
        return {"model": self.config.model, "seed": self.config.seed, "candidates": self.config.candidates,
                "start": self.controller.session_start, "station": self.config.kiosk.station if self.config.kiosk else ""}

    # The frame's stages.
    def frame(self, *, capture: bool = False) -> FrameRecord:
        """One frame; with ``capture`` the drawn pixels are kept for ``capture()`` (read before present).

        A frame in which nothing visible changed (no input, no result, no animation, HUD not due) is
        neither drawn nor presented, so an idle window leaves the CPU to the solver.
        """
        self._draw.capture = capture
        return self.loop.tick()

    def _keep_stats(self, record: FrameRecord) -> None:
        # A frame drawn only to refresh the HUD's own figures is not counted in them: they settle when idle.
        if record.drawn and not record.overlay_only:
            self.stats.add(record)

    # Running.
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
        shown = self.startup.frames_after_first_image(record.index)
        if config.exit_after_frames is not None and shown is not None and shown >= config.exit_after_frames:
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

    @property
    def captured(self) -> np.ndarray | None:
        """The pixels the last ``frame(capture=True)`` drew, [H, W, 3] uint8, row 0 at the top."""
        return self._draw.captured

    def capture(self) -> np.ndarray:
        """Draw one more frame and return its pixels."""
        self.frame(capture=True)
        return self.captured

    def screenshot(self, path: str | Path) -> Path:
        return write_image(path, self.capture())

    def close(self) -> None:
        """Input and files first, then the worker, then GL (the scene before its window), then the profile."""
        if self.recorder is not None:
            self.recorder.close()
            self.recorder = None
        for part in (self.router, self.kiosk, self.autosave, self.systemd, self.controller, self.photos):
            if part is not None:
                part.close()
        self.scene.release()
        self.window.close()
        if self.profiler is not None:
            self.profiler.close()
