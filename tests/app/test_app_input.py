"""The app's input: mouse strokes as they happen, pen pressure (raw SDL events), a virtual gamepad
alone, the morph slider and the eyedropper.

Nothing is mocked: a real window (SDL offscreen driver) with a real GL context on llvmpipe, a 32 px
random model (conftest's ``app_model``), input through pygame's real event queue, and assertions
that read the window's pixels back.
"""

from __future__ import annotations

import cv2
import numpy as np
import pygame
import pytest
from app_window import STROKES, app_action, canvas_pixels, make_app, run_until

from demo.app.loop.timing import STAGES
from demo.input import sdl
from demo.tools.session import read_session


def test_mouse_strokes_are_recorded_as_they_happen(app_model, tmp_path):
    record = tmp_path / "live.jsonl"
    app = make_app(app_model, tmp_path, record=record)
    try:
        run_until(app, lambda: app.controller.result is not None)
        x, y, w, h = app.layout.canvas
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x + 0.2 * w, y + 0.5 * h), button=1, touch=False))
        for i in range(1, 6):
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(x + (0.2 + 0.1 * i) * w, y + 0.5 * h),
                                                 rel=(1, 0), buttons=(1, 0, 0), touch=False))
            app.frame()
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x + 0.7 * w, y + 0.5 * h), button=1, touch=False))
        app.frame()
        written = read_session(record)  # read while the app is still open: flushed per event
        run_until(app, lambda: app.controller.idle)
        assert app.controller.latency.all, "no pen-to-image latency was measured"
        record_frame = app.stats.records[-1]
        assert set(record_frame.stages) == set(STAGES)
    finally:
        app.close()
    assert [e.type for e in written.events] == ["down"] + ["move"] * 5 + ["up"]
    assert written.events[-2].x == pytest.approx(0.7, abs=0.01)
    assert len(app.controller.state.strokes) == 1


def test_pen_pressure_reaches_the_stroke(app_model, tmp_path):
    app = make_app(app_model, tmp_path)
    try:
        app.frame()
        width, height = app.window.size
        x, y, w, h = app.layout.canvas
        u = lambda f: (x + f * w) / width
        v = (y + 0.5 * h) / height
        sdl.push_finger_event(sdl.SDL_FINGERDOWN, x=u(0.3), y=v, pressure=0.25, dy=0.7)
        sdl.push_finger_event(sdl.SDL_FINGERMOTION, x=u(0.6), y=v, pressure=0.75, dy=0.01)
        sdl.push_finger_event(sdl.SDL_FINGERUP, x=u(0.6), y=v, pressure=0.0)
        app.frame()
    finally:
        app.close()
    (stroke,) = app.controller.state.strokes
    assert [round(p, 3) for _, _, p in stroke.points] == [0.25, 0.75]
    assert stroke.points[0][0] == pytest.approx(0.3, abs=0.01)


def test_gamepad_draws_picks_and_fixes_without_mouse_or_keyboard(app_model, tmp_path):
    app = make_app(app_model, tmp_path)
    pad = None
    try:
        run_until(app, lambda: app.controller.result is not None)
        pad = sdl.VirtualGamepad()
        run_until(app, lambda: len(app.router.gamepad.pads) == 1, frames=20)
        start = app.router.cursor or app.router.gamepad.cursor
        app.frame()  # (a frame after a stall moves the cursor for up to 0.1 s: start from a fresh one)
        pad.set_axis(0, 0.5)  # left stick half right: the cursor stays over the canvas
        for _ in range(3):
            app.frame()
        pad.set_axis(0, 0.0)
        app.frame()
        moved = app.router.gamepad.cursor
        assert moved[0] > start[0] and moved[1] == pytest.approx(start[1])
        pad.set_trigger(5, 0.8)  # right trigger: pen down
        app.frame()
        pad.set_axis(1, -1.0)  # stick up while drawing
        for _ in range(3):
            app.frame()
        pad.set_axis(1, 0.0)
        pad.set_trigger(5, 0.0)  # release: pen up
        app.frame()
        for button in (2, 0):  # X: next tool, A: fix
            pad.set_button(button, True)
            app.frame()
            pad.set_button(button, False)
            app.frame()
        pad.set_button(14, True)  # D-pad right: show the next thumbnail
        app.frame()
        pad.set_button(14, False)
        run_until(app, lambda: app.controller.idle)
        pad.detach()
        pad = None
        run_until(app, lambda: not app.router.gamepad.pads, frames=20)
        commands = [(e.name, e.index) for e in app.controller.events if e.type == "command"]
    finally:
        if pad is not None:
            pad.detach()
        app.close()
    (stroke,) = app.controller.state.strokes
    assert stroke.tool == "color"
    assert len(stroke.points) >= 2
    assert stroke.points[-1][1] < stroke.points[0][1]  # it went up
    assert stroke.points[0][2] == pytest.approx(0.8, abs=0.01)  # trigger = pressure
    assert app.ui.brush.tool == "sketch"
    assert commands == [("fix", None), ("pick", 1)]  # the thumbnail after the one shown (the best)
    result = app.controller.result
    assert app.controller.request.pick is not None
    assert int(result.slots[result.current]) == app.controller.request.pick  # the picked candidate is shown


def test_morph_slider_and_eyedropper_show_and_take_what_is_on_the_canvas(app_model, tmp_path):
    app = make_app(app_model, tmp_path, hud=False)
    try:
        run_until(app, lambda: app.controller.result is not None)
        for event in STROKES[:4]:
            app.on_event(event, at=0.0)
        run_until(app, lambda: app.controller.idle and app.controller.result.morph_display is not None)
        morph = app.controller.result.morph_display  # [4, 4R, 4R, 3]: z0 -> current, at display resolution
        assert app.scene.canvas_view.morph_frames == 4 and morph.shape[1] == 4 * app.controller.result.resolution
        x, y, w, h = app.layout.canvas
        track_x, track_y, track_w, track_h = app.layout.morph_track
        for button in (pygame.MOUSEBUTTONDOWN, pygame.MOUSEBUTTONUP):  # click the slider's left end
            pygame.event.post(pygame.event.Event(button, pos=(track_x + 1, track_y + track_h / 2), button=1, touch=False))
        app.on_action(app_action("toggle_overlay"))
        shown = canvas_pixels(app)
        assert app.morph.position == 0.0
        expected = cv2.resize(morph[0], shown.shape[1::-1], interpolation=cv2.INTER_LINEAR).astype(np.float32)
        current = cv2.resize(morph[-1], shown.shape[1::-1], interpolation=cv2.INTER_LINEAR).astype(np.float32)
        assert np.abs(shown - expected)[8:-8, 8:-8].mean() < 3  # the anchor frame...
        assert np.abs(shown - current)[8:-8, 8:-8].mean() > 10  # ... not the current image
        # Right-click on the canvas takes the color there (from the image, not the screen).
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x + 0.5 * w, y + 0.25 * h), button=3, touch=False))
        app.frame()
        image = app.controller.result.image
        size = image.shape[0]
        assert app.ui.brush.color == tuple(int(c) for c in image[int(0.25 * size), int(0.5 * size)])
    finally:
        app.close()
