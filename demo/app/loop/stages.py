"""The app's frame, stage by stage: input, rasterise, submit, poll, upload, draw, present.

``FrameLoop`` runs and times the stages in this order; each stage records on the frame's
``FrameRecord`` what it did (changed, submitted, new result, drawn, shown inputs), and a frame in
which nothing visible changed is neither drawn nor presented. Each stage is built from the parts it
uses (``App`` builds and owns them); none of them waits for the solver.
"""

from __future__ import annotations

from typing import Callable

import pygame

from demo.app.loop.timing import STAGES, FrameRecord
from demo.app.render.scene import FrameView
from demo.app.render.views.hud import hud_lines


class InputStage:
    """Route this frame's input, feed a replay or a live session, advance animations."""

    def __init__(self, *, router, window, layouts, store, morph, startup, controller, apply_event, dispatch,
                 kiosk=None, replay=None, feeder=None):
        self.router, self.window, self.layouts, self.store = router, window, layouts, store
        self.morph, self.startup, self.controller = morph, startup, controller
        self.apply_event, self.dispatch = apply_event, dispatch
        self.kiosk, self.replay, self.feeder = kiosk, replay, feeder
        self._last_start: float | None = None

    def __call__(self, record: FrameRecord) -> None:
        dt = 0.0 if self._last_start is None else min(0.1, record.start - self._last_start)
        self._last_start = record.start
        events = pygame.event.get()
        if self.kiosk is not None:  # kiosk hook: drops what a visitor may not do, notes activity
            events = self.kiosk.screen(events, record.start)
        cursor = self.router.cursor
        self.router.handle(events, dt=dt)
        changed = bool(events) or self.router.cursor != cursor or self.startup.preview_pending
        changed |= self.layouts.follow(self.window.size)
        replay = self.replay
        if replay is not None and not replay.done:
            replay.step(self.controller, self.apply_event)
            if replay.done:
                self.controller.auto_submit = True
            changed = True
        if self.feeder is not None and not self.feeder.done:
            self.feeder.feed(self.router, self.dispatch)
            changed = True
        if self.kiosk is not None:  # kiosk hook: idle reset, attract loop, exit chord
            changed |= self.kiosk.tick(record.start)
        changed |= self.morph.advance(dt)
        changed |= self.store.expire(record.start)
        record.changed = changed


class RasteriseStage:
    """The strokes into the overlay layer, on the GPU (the solver's raster is built in the worker)."""

    def __init__(self, *, overlay, controller, layouts):
        self.overlay, self.controller, self.layouts = overlay, controller, layouts

    def __call__(self, record: FrameRecord) -> None:
        record.changed |= self.overlay.update(self.controller.state, int(self.layouts.layout.canvas[2]))


class SubmitStage:
    """The newest edit, at most one request."""

    def __init__(self, *, controller, replay=None):
        self.controller, self.replay = controller, replay

    def __call__(self, record: FrameRecord) -> None:
        force = self.replay is not None and self.replay.take_submit()
        record.submitted = self.controller.submit(force=force)


class PollStage:
    """The newest fresh result, never blocking; a worker that died or hangs is replaced."""

    def __init__(self, *, controller, watchdog, client, clock, tell: Callable[..., None], profiler=None):
        self.controller, self.watchdog, self.client = controller, watchdog, client
        self.clock, self.tell, self.profiler = clock, tell, profiler
        self.result = None  # this frame's new result

    def __call__(self, record: FrameRecord) -> None:
        self.keep_worker_alive()
        result = self.result = self.controller.poll()
        if result is not None:
            self.watchdog.result_arrived()
            if self.profiler is not None:
                self.profiler.result(result, self.clock())
        for text in self.controller.take_notices():  # ignored picks, K lowered on GPU memory, no GPU found
            self.tell(text, "notice", 6.0)
        record.new_result = result is not None and result.error is None
        record.changed |= result is not None

    def keep_worker_alive(self) -> None:
        """A worker that died or hangs is replaced (with back-off, never for good); the window and the edit stay."""
        pending = not self.controller.idle and self.controller.submitted_stamp is not None
        reason = self.watchdog.check(alive=self.client.alive, pending=pending)
        if reason is None:
            return
        self.tell(f"the solver {reason}; restarting it", "error", 5.0)
        self.controller.restart_worker()


class UploadStage:
    """This frame's result and photo into textures."""

    def __init__(self, *, scene, photos, poll: PollStage):
        self.scene, self.photos, self.poll = scene, photos, poll

    def __call__(self, record: FrameRecord) -> None:
        record.changed |= self.photos.take_opened()
        if record.new_result:
            self.scene.upload(self.poll.result, now=record.start)
            self.photos.follow(self.poll.result, now=record.start)
        record.changed |= self.scene.refresh(record.start)
        record.changed |= self.photos.upload()


class DrawStage:
    """The frame, if anything visible changed (or the HUD's figures are due, or a capture is asked for)."""

    def __init__(self, *, scene, window, layouts, store, controller, router, morph, photos, stats, client,
                 hud: bool, kiosk=None, replay=None):
        self.scene, self.window, self.layouts, self.store = scene, window, layouts, store
        self.controller, self.router, self.morph, self.photos = controller, router, morph, photos
        self.stats, self.client, self.hud = stats, client, hud
        self.kiosk, self.replay = kiosk, replay
        self.capture = False  # this frame keeps its drawn pixels in ``captured``
        self.captured = None  # [H, W, 3] uint8 of the last captured frame

    def __call__(self, record: FrameRecord) -> None:
        ui = self.store.state
        hud_due = self.hud and self.scene.hud_due(record.start, self.hud_lines)
        if not record.changed and (hud_due or ui.show_profile):
            record.changed = record.overlay_only = True
        record.drawn = record.changed or self.capture
        if self.capture and self.hud:
            self.scene.hud_lines = self.hud_lines()  # a screenshot shows current figures
        if record.drawn:
            self.scene.draw(self.window, self.view())
            if self.capture:
                self.captured = self.window.read_pixels()

    def hud_lines(self) -> list[str]:
        return hud_lines(stats=self.stats, result=self.controller.result, latency=self.controller.latency,
                         worker_mode=self.client.mode, replay=self.replay)

    def view(self) -> FrameView:
        ui, layout, size = self.store.state, self.layouts.layout, self.window.size
        kiosk = self.kiosk  # kiosk hook: big hints for visitors
        return FrameView(
            window_size=size, layout=layout, ui=ui, result=self.controller.result, error=self.controller.error,
            morph=self.morph, photo=self.photos.shown(ui.show_photo), hud=self.hud, records=self.stats.records,
            cursor=self.router.cursor, crosshair=self.router.gamepad_connected,
            extra=None if kiosk is None else (lambda painter: kiosk.draw(painter, size, layout.canvas)))


class PresentStage:
    """A drawn frame to the screen; which inputs it showed first, and the start-up marks."""

    def __init__(self, *, window, controller, startup, clock):
        self.window, self.controller, self.startup, self.clock = window, controller, startup, clock

    def __call__(self, record: FrameRecord) -> None:
        if not record.drawn:
            return
        self.window.present()
        record.shown_inputs = self.controller.latency.presented(self.clock())
        result = self.controller.result
        if result is not None:
            record.steps_done = result.steps_done
        self.startup.presented(record.index, result)


def stage_table(*, input, rasterise, submit, poll, upload, draw, present) -> dict:
    """The stages in their order, for FrameLoop."""
    table = dict(input=input, rasterise=rasterise, submit=submit, poll=poll, upload=upload, draw=draw, present=present)
    return {name: table[name] for name in STAGES}
