"""Exhibition mode, its parts: the kiosk's decisions on a fake clock, its config file, systemd's notify
socket, autosave and resume (test_kiosk_app.py runs the whole app in kiosk mode).

Nothing is mocked: systemd's socket is a real AF_UNIX datagram socket, and a full disk is a real 16 KB
tmpfs (where this user may mount one).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
from datagrams import received
from fake_clock import FakeClock

from demo.app.edit.autosave import Autosave, latest_autosave
from demo.app.kiosk.config import Chord, KioskConfig, apply_config_file
from demo.app.kiosk.policy import ATTRACT, RESET, WAKE, ChordWatch, CursorHider, IdlePolicy
from demo.app.kiosk.sdnotify import SystemdNotifier
from demo.errors import UserError
from demo.tools.session import Event, read_session


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


def test_the_attract_loop_plays_the_sessions_painted_for_the_model_on_screen(capsys):
    from demo.app.kiosk.attract import load_attract_sessions

    bundled = KioskConfig(attract_sessions="assets/sessions/attract_*.jsonl")
    for model in ("landscape64", "avatars64", "models/avatars64.safetensors"):
        sessions = load_attract_sessions(bundled, model=model)
        assert len(sessions) >= 3 and {session.meta["model"] for session in sessions} == {Path(model).stem}
    assert capsys.readouterr().err == ""


def test_sessions_for_another_model_play_only_when_none_is_painted_for_this_one():
    from demo.app.kiosk.attract import sessions_for
    from demo.tools.session import Session

    land, portrait, any_model = (Session(meta={"model": "landscape64"}), Session(meta={"model": "avatars64"}),
                                 Session(meta={}))
    assert sessions_for([land, portrait, any_model], "avatars64") == ([portrait, any_model], None)
    assert sessions_for([land, any_model], "mine") == ([any_model], None)
    recorded = Session(meta={"model": "/srv/models/mine.pth"})  # recorded with --model PATH
    assert sessions_for([land, recorded], "mine") == ([recorded], None)
    chosen, warning = sessions_for([land, portrait], "/srv/models/mine.pth")
    assert chosen == [land, portrait]
    assert "mine" in warning and "avatars64, landscape64" in warning and "plays them all" in warning


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
        assert received(server) == ["READY=1", "WATCHDOG=1", "WATCHDOG=1", "WATCHDOG=1"]  # at 0, 2 and 4 s
    finally:
        notifier.close()
    assert received(server) == ["STOPPING=1"]
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
    assert received(server) == ["READY=1"]  # systemd watches another pid: this one must not ping
    notifier._socket.close()
    server.close()
    quiet = SystemdNotifier.from_environ({})
    quiet.frame()
    assert not quiet.active and not quiet.notify("READY=1")


# Autosave.
def _controller_with(events):
    from demo.app.edit.controller import EditController

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
    from demo.app.edit.files import save_picture
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
