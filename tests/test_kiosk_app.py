"""Exhibition mode, the real app: kiosk mode in an offscreen window, with faults injected (a quit, a
signal, a crash, an unplugged gamepad or tablet, a missing CUDA device).

Nothing is mocked: the app runs with the in-process solver on a 32 px random model, input goes
through pygame's real event queue (a virtual SDL joystick for the gamepad).
"""

from __future__ import annotations

import os
import signal
import socket

import numpy as np
import pygame
import pytest
from datagrams import received
from fake_clock import FakeClock

from demo.app.edit.autosave import latest_autosave
from demo.app.kiosk.config import KioskConfig
from demo.input.actions import Action, Brush
from demo.tools.session import read_session


def make_kiosk_app(model, tmp_path, clock, **overrides):
    from demo.app.app import App
    from demo.app.config import AppConfig

    kiosk = KioskConfig(idle_seconds=20, reset_seconds=10, morph_seconds=2, settle_seconds=3)
    config = dict(model=str(model), size=(640, 480), worker="sync", device="auto", candidates=2, steps=4, top_k=2,
                  max_fps=0, save_dir=tmp_path / "saves", chunk_seconds=0.05, morph_frames=2, hang_seconds=1e6,
                  kiosk=kiosk, hud=False)
    config.update(overrides)
    return App(AppConfig(**config), clock=clock)


def frames(app, clock, count: int, dt: float = 1 / 60) -> None:
    for _ in range(count):
        clock.advance(dt)
        app.frame()


def post_stroke(app, u0: float, u1: float, v: float) -> None:
    x, y, w, h = app.layout.canvas
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x + u0 * w, y + v * h), button=1, touch=False))
    for i in range(1, 5):
        u = u0 + (u1 - u0) * i / 4
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(x + u * w, y + v * h), rel=(1, 0),
                                             buttons=(1, 0, 0), touch=False))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x + u1 * w, y + v * h), button=1, touch=False))


def key(kind, code, mods=0):
    return pygame.event.Event(kind, key=code, mod=mods, unicode="", scancode=0)


def test_kiosk_app_blocks_quitting_resets_saves_attracts_wakes_and_exits_on_the_chord(small_model_file, tmp_path):
    clock = FakeClock()
    app = make_kiosk_app(small_model_file, tmp_path, clock)
    notices = []
    try:
        for _ in range(200):
            frames(app, clock, 1)
            if app.ui.notice is not None:
                notices.append(app.ui.notice.text)
            if app.controller.result is not None and notices:
                break
        assert any("no GPU found: running on the CPU" in text for text in notices)  # --device auto on a CPU machine
        post_stroke(app, 0.1, 0.9, 0.3)
        frames(app, clock, 3)
        assert len(app.controller.state.strokes) == 1
        # The visitor cannot quit, leave fullscreen or open a file.
        for event in (pygame.event.Event(pygame.QUIT), key(pygame.KEYDOWN, pygame.K_q, pygame.KMOD_LCTRL),
                      key(pygame.KEYDOWN, pygame.K_F11), pygame.event.Event(pygame.DROPFILE, file=str(small_model_file))):
            pygame.event.post(event)
        frames(app, clock, 2)
        assert app.ui.running and app.photos.edit is None
        # Unattended: saved, then cleared.
        frames(app, clock, 1, dt=10.5)
        saved = sorted((tmp_path / "saves").glob("igan-*.png"))
        assert len(saved) == 1 and app.kiosk.resets == 1 and app.kiosk.unattended_saves == 1
        assert not app.controller.state.strokes and len(read_session(saved[0].with_suffix(".jsonl")).events) == 6
        assert app.kiosk.hint_state().saved  # the big 'saved' confirmation
        # Idle: the attract loop plays a bundled session through the input path.
        frames(app, clock, 1, dt=10.0)
        assert app.kiosk.attracting
        frames(app, clock, 120, dt=0.05)
        assert app.controller.state.strokes or app.controller.state.active is not None
        assert app.kiosk.hint_state().attract
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(5, 5), rel=(1, 1), buttons=(0, 0, 0), touch=False))
        frames(app, clock, 1)
        assert app.kiosk.attracting  # a nudge does not wake it
        # The first click returns to a fresh start (the click itself paints a dot with the default brush).
        app.on_action(Action(name="width", value=0.3))  # the attract loop left its own brush
        post_stroke(app, 0.5, 0.5, 0.5)
        frames(app, clock, 2)
        assert not app.kiosk.attracting and app.kiosk.wakes == 1
        assert [stroke.color for stroke in app.controller.state.strokes] == [Brush().color]
        assert app.ui.brush == Brush() and len(list((tmp_path / "saves").glob("igan-*.png"))) == 1  # attract strokes are not saved
        # The operator's chord, held 2 s, quits.
        for code, mods in ((pygame.K_LCTRL, pygame.KMOD_LCTRL), (pygame.K_LALT, pygame.KMOD_LCTRL | pygame.KMOD_LALT),
                           (pygame.K_q, pygame.KMOD_LCTRL | pygame.KMOD_LALT)):
            pygame.event.post(key(pygame.KEYDOWN, code, mods))
        frames(app, clock, 1)
        frames(app, clock, 1, dt=1.0)
        assert app.ui.running and 0 < app.kiosk.hint_state().exit_progress < 1
        frames(app, clock, 1, dt=1.1)
        assert not app.ui.running
    finally:
        app.close()


def test_gamepad_only_wakes_the_kiosk_and_an_unplugged_pad_ends_its_stroke(small_model_file, tmp_path, monkeypatch):
    """Also: under systemd the app says READY=1 after its first frame, pings, and reports the kiosk's status."""
    from demo.input import sdl

    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(tmp_path / "notify"))
    server.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    clock = FakeClock()
    app = make_kiosk_app(small_model_file, tmp_path, clock)
    pad = None
    try:
        frames(app, clock, 30)
        pad = sdl.VirtualGamepad()
        frames(app, clock, 5)
        assert app.router.gamepad.pads
        frames(app, clock, 1, dt=21)
        assert app.kiosk.attracting
        pad.set_button(0, True)  # A
        frames(app, clock, 2)
        pad.set_button(0, False)
        assert not app.kiosk.attracting and app.kiosk.wakes == 1
        pad.set_axis(0, -1.0)  # the cursor starts mid-window: move it left, onto the canvas
        frames(app, clock, 30)
        pad.set_axis(0, 0.0)
        frames(app, clock, 1)
        assert app.layout.viewport.contains(*app.router.cursor)
        pad.set_trigger(5, 0.9)  # the pen goes down...
        frames(app, clock, 2)
        pad.set_axis(1, 0.6)
        frames(app, clock, 4)
        assert app.controller.state.active is not None
        pad.detach()  # ...and the pad is unplugged mid-stroke
        pad = None
        frames(app, clock, 5)
        assert app.controller.state.active is None and len(app.controller.state.strokes) == 1
        assert app.router.stroke_owner is None
        os.kill(os.getpid(), signal.SIGTERM)  # systemctl stop: the kiosk quits cleanly (SDL's QUIT is blocked)
        frames(app, clock, 2)
        assert not app.ui.running
    finally:
        if pad is not None:
            pad.detach()
        app.close()
    told = [message.split(";")[0] for message in received(server)]
    server.close()
    assert told[:3] == ["STATUS=visitor", "READY=1", "WATCHDOG=1"]
    assert told[-3:] == ["STATUS=attract loop", "STATUS=visitor", "STOPPING=1"]


def test_input_flood_is_thinned_and_the_autosave_resumes_after_a_crash(small_model_file, tmp_path):
    """1000 pointer events in one frame add a bounded number of points; the autosave replays the edit."""
    clock = FakeClock()
    app = make_kiosk_app(small_model_file, tmp_path, clock, kiosk=None, autosave_seconds=5.0)
    try:
        frames(app, clock, 30)
        x, y, w, h = app.layout.canvas
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x + 0.1 * w, y + 0.5 * h), button=1, touch=False))
        for i in range(1, 1001):  # a second's flood from a 1000 Hz mouse, moving 0.4 of the canvas in sub-pixel steps
            u = 0.1 + 0.4 * i / 1000
            pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(x + u * w, y + 0.5 * h), rel=(1, 0),
                                                 buttons=(1, 0, 0), touch=False))
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x + 0.5 * w, y + 0.5 * h), button=1, touch=False))
        frames(app, clock, 1)
        assert not pygame.event.peek()  # the whole flood was taken in one frame, none left queued
        frames(app, clock, 2)
        (stroke,) = app.controller.state.strokes
        min_step = app.router.stroke.min_step
        assert len(stroke.points) <= 0.4 / min_step + 2  # moves under the pointer's min_step are dropped, not stored
        frames(app, clock, 1, dt=5.0)
        assert app.autosave.wait() and app.autosave.writes == 1
        events = list(app.controller.events)
    finally:
        app.close()
    resumed = make_kiosk_app(small_model_file, tmp_path, clock, kiosk=None, replay=latest_autosave(tmp_path / "saves"))
    try:
        for _ in range(400):
            frames(resumed, clock, 1)
            if resumed.replay.done:
                break
        assert [e.to_json() for e in resumed.controller.events] == [e.to_json() for e in events]
        (before,), (after,) = app.controller.state.strokes, resumed.controller.state.strokes
        assert np.allclose(after.points, before.points, atol=1e-4) and after.color == before.color
    finally:
        resumed.close()


def test_a_tablet_unplugged_mid_stroke_ends_the_stroke_cleanly():
    """The tablet's device starts failing to read (a reset socket stands in for the kernel's ENODEV)."""
    from demo.input import InputRouter, Viewport
    from demo.input.pen import (
        ABS_PRESSURE,
        BTN_TOUCH,
        EV_ABS,
        EV_KEY,
        EvdevTablet,
        encode_events,
    )

    class Sink:
        brush, canvas, window_size = Brush(), Viewport(0, 0, 400, 400), (640, 480)

        def __init__(self):
            self.events = []

        def on_event(self, event, *, at):
            self.events.append(event)

        def on_action(self, action):
            pass

        def press(self, x, y):
            return False

    device, kernel = socket.socketpair()
    tablet = EvdevTablet(os.dup(device.fileno()), pressure_range=(0, 100))
    device.close()
    sink = Sink()
    router = InputRouter(sink, tablet=tablet, gamepads=False)
    try:
        kernel.send(encode_events([(EV_KEY, BTN_TOUCH, 1), (EV_ABS, ABS_PRESSURE, 60)]))
        router.handle([pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(100, 100), button=1, touch=False)], dt=0.016)
        router.handle([pygame.event.Event(pygame.MOUSEMOTION, pos=(150, 100), rel=(50, 0), buttons=(1, 0, 0),
                                          touch=False)], dt=0.016)
        os.write(tablet.fd, b"unread")  # data the "kernel" never reads: closing it now resets the connection
        kernel.close()  # unplugged, and no mouse event follows
        router.handle([], dt=0.016)
        assert router.tablet is None and router.stroke_owner is None
        assert [event.type for event in sink.events] == ["down", "move", "up"]
        assert sink.events[0].pressure == pytest.approx(0.6)
        router.handle([], dt=0.016)  # and the app goes on
    finally:
        router.close()


def test_an_explicit_cuda_device_without_one_fails_clearly_on_screen(small_model_file, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    clock = FakeClock()
    app = make_kiosk_app(small_model_file, tmp_path, clock, device="cuda")
    try:
        for _ in range(100):
            frames(app, clock, 1)
            if app.controller.error:
                break
        assert "--device cuda: no CUDA device is available" in app.controller.error
        assert app.ui.running and app.ui.notice is None  # no CPU-fallback notice: the error is shown instead
    finally:
        app.close()
