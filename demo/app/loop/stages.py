"""The app's frame, stage by stage: input, rasterise, submit, poll, upload, draw, present.

``FrameLoop`` runs and times the stages in this order (``AppStages.table()``); each stage records on
the frame's ``FrameRecord`` what it did (changed, submitted, new result, drawn, shown inputs), and a
frame in which nothing visible changed is neither drawn nor presented. The stages read and drive the
app's parts (``App`` builds and owns them); none of them waits for the solver.
"""

from __future__ import annotations

import pygame

from demo.app.render.layout import compute_layout
from demo.app.loop.timing import STAGES, FrameRecord
from demo.app.render.views.hud import hud_lines


class AppStages:
    def __init__(self, app):
        self.app = app
        self.capture = False  # this frame keeps its drawn pixels in app.captured
        self._last_start: float | None = None
        self._result = None  # this frame's new result

    def table(self) -> dict:
        """The stages in their order, for FrameLoop."""
        return {name: getattr(self, name) for name in STAGES}

    def input(self, record: FrameRecord) -> None:
        """Route this frame's input, feed a replay or a live session, advance animations."""
        app = self.app
        dt = 0.0 if self._last_start is None else min(0.1, record.start - self._last_start)
        self._last_start = record.start
        events = pygame.event.get()
        if app.kiosk is not None:  # kiosk hook: drops what a visitor may not do, notes activity
            events = app.kiosk.screen(events, record.start)
        cursor = app.router.cursor
        app.router.handle(events, dt=dt)
        changed = bool(events) or app.router.cursor != cursor or app.startup.preview_pending
        if app.layout.size != app.window.size:
            app.layout = compute_layout(app.window.size, thumbnails=app.config.top_k)
            changed = True
        if app.replay is not None and not app.replay.done:
            app.replay.step(app.controller, app.apply_event)
            if app.replay.done:
                app.controller.auto_submit = True
            changed = True
        if app.feeder is not None and not app.feeder.done:
            app.feeder.feed(app.router, app.on_action)
            changed = True
        if app.kiosk is not None:  # kiosk hook: idle reset, attract loop, exit chord
            changed |= app.kiosk.tick(record.start)
        changed |= app.morph.advance(dt)
        expired = app.ui.expire(record.start)
        changed |= expired is not app.ui
        app.ui = expired
        record.changed = changed

    def rasterise(self, record: FrameRecord) -> None:
        """The strokes into the overlay layer, on the GPU (the solver's raster is built in the worker)."""
        app = self.app
        record.changed |= app.scene.overlay.update(app.controller.state, int(app.layout.canvas[2]))

    def submit(self, record: FrameRecord) -> None:
        app = self.app
        force = app.replay is not None and app.replay.take_submit()
        record.submitted = app.controller.submit(force=force)

    def poll(self, record: FrameRecord) -> None:
        app = self.app
        self.keep_worker_alive()
        result = app.controller.poll()
        self._result = result
        if result is not None:
            app.watchdog.result_arrived()
            if app.profiler is not None:
                app.profiler.result(result, app.clock())
        for text in app.controller.take_notices():  # ignored picks, K lowered on GPU memory, no GPU found
            app.tell(text, "notice", 6.0)
        record.new_result = result is not None and result.error is None
        record.changed |= result is not None

    def upload(self, record: FrameRecord) -> None:
        app = self.app
        record.changed |= app.photos.take_opened()
        if record.new_result:
            app.scene.upload(self._result, now=record.start)
            app.photos.follow(self._result, now=record.start)
        record.changed |= app.scene.refresh(record.start)
        record.changed |= app.photos.upload()

    def draw(self, record: FrameRecord) -> None:
        app = self.app
        hud_due = app.config.hud and app.scene.hud_due(record.start, self.hud)
        if not record.changed and (hud_due or app.ui.show_profile):
            record.changed = record.overlay_only = True
        record.drawn = record.changed or self.capture
        if self.capture and app.config.hud:
            app.scene.hud_lines = self.hud()  # a screenshot shows current figures
        if record.drawn:
            self.draw_scene()
            if self.capture:
                app.captured = app.window.read_pixels()

    def present(self, record: FrameRecord) -> None:
        app = self.app
        if not record.drawn:
            return
        app.window.present()
        record.shown_inputs = app.controller.latency.presented(app.clock())
        result = app.controller.result
        if result is not None:
            record.steps_done = result.steps_done
        app.startup.presented(record.index, result)

    def keep_worker_alive(self) -> None:
        """A worker that died or hangs is replaced (with back-off, never for good); the window and the edit stay."""
        app = self.app
        pending = not app.controller.idle and app.controller.submitted_stamp is not None
        reason = app.watchdog.check(alive=app.client.alive, pending=pending)
        if reason is None:
            return
        app.tell(f"the solver {reason}; restarting it", "error", 5.0)
        app.controller.restart_worker()

    def hud(self) -> list[str]:
        app = self.app
        return hud_lines(stats=app.stats, result=app.controller.result, latency=app.controller.latency,
                         worker_mode=app.client.mode, replay=app.replay)

    def draw_scene(self) -> None:
        app = self.app
        gamepad = app.router.gamepad is not None and bool(app.router.gamepad.pads)
        kiosk = app.kiosk  # kiosk hook: big hints for visitors
        app.scene.draw(
            window=app.window, window_size=app.window.size, layout=app.layout, ui=app.ui,
            result=app.controller.result, error=app.controller.error, morph=app.morph,
            photo=app.photos.shown(app.ui.show_photo),
            hud=app.config.hud, records=app.stats.records, cursor=app.router.cursor, crosshair=gamepad,
            extra=None if kiosk is None else (lambda painter: kiosk.draw(painter, app.window.size, app.layout.canvas)))
