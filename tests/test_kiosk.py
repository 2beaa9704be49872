"""Exhibition mode: the kiosk's decisions on a fake clock, its config file, systemd's notify socket,
autosave and resume, and the real app in kiosk mode in an offscreen window (faults injected).

Nothing is mocked: the app runs with the in-process solver on a 32 px random model, input goes
through pygame's real event queue (a virtual SDL joystick for the gamepad), systemd's socket is a
real AF_UNIX datagram socket, and a full disk is a real 16 KB tmpfs (where this user may mount one).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
from pathlib import Path

import numpy as np
import pygame
import pytest

from demo.app.autosave import Autosave, latest_autosave
from demo.app.kiosk_config import Chord, KioskConfig, apply_config_file
from demo.app.kiosk_policy import ATTRACT, RESET, WAKE, ChordWatch, CursorHider, IdlePolicy
from demo.app.sdnotify import SystemdNotifier
from demo.errors import UserError
from demo.input.actions import Action, Brush
from demo.tools.session import Event, read_session


class FakeClock:
    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# The kiosk's decisions.
def test_idle_policy_resets_an_unattended_edit_then_attracts_and_the_first_touch_wakes():
    policy = IdlePolicy(KioskConfig(idle_seconds=60, reset_seconds=20), now=0.0)
    assert policy.due(19.0) is None
    assert policy.due(25.0) is None  # nothing was touched: nothing to reset
    policy.input(30.0, waking=True)  # a visitor paints
    assert policy.due(49.0) is None
    assert policy.due(50.0) == RESET
    assert policy.due(55.0) is None  # once per idle period
    assert policy.due(90.0) == ATTRACT
    assert policy.due(500.0) is None
    assert policy.input(501.0, waking=False) is None  # a nudged mouse does not end the attract loop
    assert policy.attracting
    assert policy.input(502.0, waking=True) == WAKE
    assert not policy.attracting and not policy.touched
    assert policy.due(530.0) is None  # a fresh start with nothing done is not reset
    assert policy.due(562.0) == ATTRACT


def test_exit_chord_must_be_held_unbroken_for_its_time():
    watch = ChordWatch(Chord.parse("Ctrl+Alt+Q"), seconds=2.0)
    watch.down("ctrl", 0.0)
    watch.down("q", 0.5)
    assert watch.since is None  # alt is missing
    watch.down("alt", 1.0)
    assert not watch.held(2.9) and watch.progress(2.0) == pytest.approx(0.5)
    watch.up("alt")
    assert not watch.held(3.5) and watch.progress(3.5) == 0.0
    watch.down("alt", 4.0)
    assert watch.held(6.0)
    watch.clear()
    assert not watch.held(9.0)


def test_chords_parse_and_bad_ones_are_refused():
    chord = Chord.parse("ctrl+alt+f12")
    assert chord.modifiers == {"ctrl", "alt"} and chord.key == "f12" and str(chord) == "ctrl+alt+f12"
    for bad in ("ctrl+alt", "q+w", "ctrl++q", ""):
        with pytest.raises(ValueError):
            Chord.parse(bad)


def test_cursor_hides_when_idle():
    cursor = CursorHider(seconds=3.0, now=0.0)
    assert not cursor.visible(0.0)
    cursor.moved(1.0)
    assert cursor.visible(3.9) and not cursor.visible(4.0)


# The config file.
def _app_parser() -> argparse.ArgumentParser:
    from demo.commands.app import _flags_parser

    return _flags_parser()


def test_config_file_sets_flags_and_kiosk_table_and_the_command_line_wins(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text('model = "avatars64"\nsize = "1280x800"\nseed = 7\ncandidates = 4\nhang_seconds = 12.5\n'
                    'no_hud = true\nsave_dir = "/srv/igan"\n\n'
                    '[kiosk]\nidle_seconds = 45\nreset_seconds = 30\nexit_chord = "ctrl+shift+x"\n'
                    'attract_sessions = "assets/sessions/attract_*.jsonl"\n')
    parser = _app_parser()
    args, kiosk = apply_config_file(parser, parser.parse_args(["--seed", "3"]), path)
    assert (args.model, args.size, args.seed, args.candidates, args.hang_seconds) == ("avatars64", (1280, 800), 3, 4, 12.5)
    assert args.no_hud and args.save_dir == Path("/srv/igan")
    assert kiosk == KioskConfig(idle_seconds=45, reset_seconds=30, exit_chord="ctrl+shift+x",
                                attract_sessions="assets/sessions/attract_*.jsonl")
    assert len(kiosk.session_paths()) >= 4  # the bundled attract sessions (tests run from the repository root)


@pytest.mark.parametrize("text, message", [
    ("modle = 'x'\n", "unknown key 'modle'"),
    ("size = '10x10'\n", "too small"),
    ("device = 'tpu'\n", "must be one of"),
    ("[kiosk]\nidle = 3\n", "unknown key [kiosk].idle"),
    ("[kiosk]\nidle_seconds = 'soon'\n", "must be a number"),
    ("[kiosk]\nreset_seconds = -1\n", "reset_seconds must be > 0"),
    ("[kiosk]\nexit_chord = 'ctrl+alt'\n", "like ctrl+alt+q"),
    ("size = [1, 2\n", "not valid TOML"),
])
def test_bad_config_files_are_one_line_errors_naming_the_file(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    parser = _app_parser()
    with pytest.raises(UserError, match="bad.toml") as error:
        apply_config_file(parser, parser.parse_args([]), path)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_cli_refuses_a_missing_config_and_an_empty_attract_glob_before_opening_a_window(tmp_path, capsys):
    from demo.cli import main

    assert main(["--kiosk", "--config", str(tmp_path / "none.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err
    path = tmp_path / "k.toml"
    path.write_text(f'[kiosk]\nattract_sessions = "{tmp_path}/nothing_*.jsonl"\n')
    assert main(["--kiosk", "--config", str(path)]) == 2
    assert "no session files match" in capsys.readouterr().err


# systemd.
def _datagrams(server: socket.socket) -> list[str]:
    messages = []
    while True:
        try:
            messages.append(server.recv(256).decode())
        except BlockingIOError:
            return messages


def test_systemd_gets_ready_once_then_watchdog_pings_every_half_interval(tmp_path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(tmp_path / "notify"))
    server.setblocking(False)
    clock = FakeClock(0.0)
    notifier = SystemdNotifier.from_environ({"NOTIFY_SOCKET": str(tmp_path / "notify"), "WATCHDOG_USEC": "4000000",
                                             "WATCHDOG_PID": str(os.getpid())}, clock=clock)
    try:
        for step in range(9):  # 0 .. 4 s in half-second frames
            notifier.frame()
            clock.advance(0.5)
        assert _datagrams(server) == ["READY=1", "WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"]  # at 0, 2 and 4 s
    finally:
        notifier.close()
    assert _datagrams(server) == ["STOPPING=1"]
    server.close()


def test_systemd_abstract_socket_and_other_processes_pid_and_no_socket():
    name = f"igan-test-{os.getpid()}"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind("\0" + name)
    server.setblocking(False)
    clock = FakeClock(0.0)
    notifier = SystemdNotifier.from_environ({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "1000000",
                                             "WATCHDOG_PID": "1"}, clock=clock)
    notifier.frame()
    clock.advance(5)
    notifier.frame()
    assert _datagrams(server) == ["READY=1"]  # systemd watches another pid: this one must not ping
    notifier._socket.close()
    server.close()
    quiet = SystemdNotifier.from_environ({})
    quiet.frame()
    assert not quiet.active and not quiet.notify("READY=1")


# Autosave.
def _controller_with(events):
    from demo.app.controller import EditController

    controller = EditController(client=None, model="unused")
    for event in events:
        controller.apply(event)
    return controller


STROKE = [Event(t=0.0, type="down", tool="color", x=0.1, y=0.2, color=(250, 30, 30), width=0.2),
          Event(t=0.1, type="move", x=0.8, y=0.25), Event(t=0.2, type="up")]


def test_autosave_writes_changed_edits_atomically_and_resume_finds_the_newest(tmp_path):
    clock = FakeClock(0.0)
    controller = _controller_with(STROKE)
    autosave = Autosave(tmp_path, seconds=5.0, clock=clock, meta={"model": "m", "seed": 1})
    assert not autosave.maybe_save(controller)  # not due yet
    clock.advance(5)
    assert autosave.maybe_save(controller) and autosave.wait()
    clock.advance(5)
    assert not autosave.maybe_save(controller)  # unchanged: not written again
    controller.apply(Event(t=0.3, type="command", name="fix"))
    clock.advance(5)
    assert autosave.maybe_save(controller) and autosave.wait() and autosave.writes == 2
    session = read_session(latest_autosave(tmp_path))
    assert list(session.events) == [*STROKE, Event(t=0.3, type="command", name="fix")]
    assert session.meta["seed"] == 1 and session.meta["autosave"]
    assert [p.name for p in autosave.folder.iterdir()] == [autosave.path.name]  # no temporary left behind
    assert latest_autosave(tmp_path / "elsewhere") is None


@pytest.fixture
def full_disk(tmp_path):
    """A real 16 KB tmpfs, filled up; skipped where this user cannot mount one."""
    mount = tmp_path / "full"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        with open(mount / "filler", "wb") as filler:
            try:
                filler.write(b"\0" * 65536)
            except OSError:
                pass
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_becomes_a_notice_for_autosave_and_save(full_disk):
    from demo.app.files import save_picture
    from demo.engine.api import EditResult

    told = []
    clock = FakeClock(0.0)
    autosave = Autosave(full_disk, seconds=1.0, clock=clock, meta={}, tell=told.append)
    clock.advance(1)
    controller = _controller_with(STROKE)
    assert autosave.maybe_save(controller) and autosave.wait()
    clock.advance(1)
    assert not autosave.maybe_save(controller)  # the failure is told, and the next try waits
    assert autosave.failures == 1 and len(told) == 1 and "No space left" in told[0]
    result = EditResult(stamp=1, images=np.zeros((1, 32, 32, 3), np.uint8), slots=np.zeros(1, np.int64),
                        losses=np.zeros(1, np.float32))
    path, message = save_picture(full_disk / "saves", result=result, events=STROKE, meta={}, photo_result=None)
    assert path is None and "cannot save" in message and "No space left" in message


# The real app in kiosk mode.
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
    told = [message.split(";")[0] for message in _datagrams(server)]
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


def test_shipped_kiosk_config_and_systemd_unit_agree_with_the_app():
    root = Path(__file__).resolve().parents[1]
    parser = _app_parser()
    args, kiosk = apply_config_file(parser, parser.parse_args([]), root / "deploy" / "kiosk.toml")
    assert kiosk is not None and args.hang_seconds == 10
    unit = dict(line.split("=", 1) for line in (root / "deploy" / "igan-live.service").read_text().splitlines()
                if "=" in line and not line.startswith("#"))
    assert unit["Type"] == "notify" and unit["NotifyAccess"] == "main" and int(unit["WatchdogSec"]) > 0
    assert unit["Restart"] == "on-failure" and unit["KillMode"] == "control-group"
    flags = unit["ExecStart"].split()
    assert flags[1:4] == ["-m", "demo", "--kiosk"] and "--config" in flags and "--resume" in flags
    known = {option for action in parser._actions for option in action.option_strings}
    assert {flag for flag in flags if flag.startswith("--")} <= known


def test_a_tablet_unplugged_mid_stroke_ends_the_stroke_cleanly():
    """The tablet's device starts failing to read (a reset socket stands in for the kernel's ENODEV)."""
    from demo.input import InputRouter, Viewport
    from demo.input.pen import ABS_PRESSURE, BTN_TOUCH, EV_ABS, EV_KEY, EvdevTablet, encode_events

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
