"""The frame loop's contract, with a fake clock and fake clients: stages in order and timed, idle frames
sleep (also where presenting waits for vsync), submit/poll/upload never wait for a busy worker, a stale
result never replaces a newer one. Plus the pure pieces the app is wired from: the UI reducer, the
morph player, the watchdog. Timing targets live in ``python -m demo bench ui`` / ``profile``, not here.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from fake_clock import FakeClock

from demo.app.loop.frame_loop import FrameLoop, Pacer
from demo.app.edit.morph_player import MorphPlayer
from demo.app.loop.timing import STAGES, FrameRecord
from demo.app.edit.ui_state import UiState, reduce
from demo.app.loop.watchdog import Watchdog, WatchdogConfig
from demo.input.actions import Action


def loop_with(clock: FakeClock, *, draw: bool, vsync: bool, max_fps: float = 60.0, stage_cost: float = 0.001):
    """A loop whose stages each take ``stage_cost`` seconds of fake time; draw decides whether a frame is drawn."""
    order: list[str] = []

    def stage(name):
        def run(record: FrameRecord) -> None:
            order.append(name)
            clock.now += stage_cost
            if name == "draw":
                record.drawn = draw
        return run

    pacer = Pacer(max_fps=max_fps, vsync=lambda: vsync, clock=clock, sleep=clock.sleep)
    return FrameLoop({name: stage(name) for name in STAGES}, pacer=pacer, clock=clock), order


def test_stages_run_in_order_and_are_timed():
    clock = FakeClock()
    loop, order = loop_with(clock, draw=True, vsync=False)
    seen: list[FrameRecord] = []
    loop.listeners.append(seen.append)
    record = loop.tick()
    assert order == list(STAGES)
    assert list(record.stages) == list(STAGES)
    assert all(seconds == pytest.approx(0.001) for seconds in record.stages.values())
    assert record.total == pytest.approx(0.007)
    assert record.ends["present"] == pytest.approx(record.start + 0.007)
    assert seen == [record]


def test_a_loop_must_run_the_named_stages():
    with pytest.raises(ValueError, match="stages"):
        FrameLoop({"draw": lambda r: None}, pacer=Pacer(max_fps=60, vsync=lambda: False))


@pytest.mark.parametrize("vsync", [False, True])
def test_idle_frames_sleep_out_the_frame(vsync):
    """Nothing drawn: the loop sleeps to the next frame instead of spinning, with or without vsync."""
    clock = FakeClock()
    loop, _ = loop_with(clock, draw=False, vsync=vsync)
    frames = []
    loop.run(lambda record: frames.append(record) or len(frames) < 60)
    assert len(clock.slept) == 59
    # Each idle frame costs 7 ms of work and sleeps the rest of its 1/60 s.
    assert np.allclose(clock.slept, 1 / 60 - 0.007)
    busy = sum(f.total for f in frames)
    assert busy / (clock.now - frames[0].start) < 0.5


def test_vsync_frames_that_were_presented_do_not_sleep_again():
    clock = FakeClock()
    loop, _ = loop_with(clock, draw=True, vsync=True)
    frames = []
    loop.run(lambda record: frames.append(record) or len(frames) < 10)
    assert clock.slept == []  # present() waited for the display


def test_without_vsync_drawn_frames_are_capped_and_uncapped_idle_still_sleeps():
    clock = FakeClock()
    loop, _ = loop_with(clock, draw=True, vsync=False, max_fps=50)
    loop.run(lambda record: record.index < 4)
    assert np.allclose(clock.slept, 1 / 50 - 0.007)
    idle_clock = FakeClock()
    idle, _ = loop_with(idle_clock, draw=False, vsync=False, max_fps=0)
    idle.run(lambda record: record.index < 4)
    assert len(idle_clock.slept) == 4 and all(s > 0 for s in idle_clock.slept)


# The UI reducer.
def test_reducer_is_pure_and_covers_ui_actions():
    state = UiState()
    after = reduce(state, Action(name="tool", value="sketch"))
    assert state.brush.tool == "color" and after.brush.tool == "sketch"
    assert reduce(after, Action(name="color", value=(1, 2, 3))).brush.tool == "color"
    assert reduce(state, Action(name="toggle_help")).show_help
    assert not reduce(reduce(state, Action(name="toggle_help")), Action(name="cancel")).show_help
    assert not reduce(state, Action(name="quit")).running
    assert reduce(state, Action(name="width", value=0.2)).brush.width == pytest.approx(0.2)
    assert reduce(state, Action(name="save")) is state  # not the UI's: the app's effect
    noticed = reduce(state, Action(name="notice", value=("hello", "notice", 5.0)))
    assert noticed.expire(4.0).notice.text == "hello"
    assert noticed.expire(5.0).notice is None


def test_every_tool_is_reachable_by_tool_next():
    from demo.tools.brushes import TOOL_NAMES

    state, seen = UiState(), []
    for _ in TOOL_NAMES:
        seen.append(state.brush.tool)
        state = reduce(state, Action(name="tool_next"))
    assert sorted(seen) == sorted(TOOL_NAMES)


# The morph player.
def test_morph_player_plays_bounces_and_seeks():
    morph = MorphPlayer(seconds=1.0)
    morph.toggle(available=False)
    assert not morph.playing and morph.position is None
    morph.toggle(available=True)
    assert morph.playing and morph.position == 0.0
    assert morph.advance(0.6) and morph.position == pytest.approx(0.6)
    morph.advance(0.6)
    assert morph.position == 1.0 and morph.direction == -1.0
    morph.advance(0.25)
    assert morph.position == pytest.approx(0.75)
    morph.seek(0.3, available=True)
    assert not morph.playing and morph.position == 0.3 and not morph.advance(1.0)
    morph.leave()
    assert morph.position is None


# The watchdog.
def test_watchdog_restarts_a_crashed_worker_with_backoff_and_never_gives_up():
    clock = FakeClock()
    dog = Watchdog(WatchdogConfig(min_delay=0.0, max_delay=8.0, reset_after=1000.0), clock=clock)
    assert dog.check(alive=True, pending=False) is None
    restarts_at = []
    for _ in range(2000):
        clock.now += 0.1
        if dog.check(alive=False, pending=True) == "crashed":
            restarts_at.append(clock.now)
    gaps = np.diff(restarts_at)
    assert len(restarts_at) > 10  # it keeps restarting
    assert gaps[0] < gaps[3] and max(gaps) <= 8.0 + 0.11  # backs off, up to max_delay
    assert dog.restarts == len(restarts_at)


def test_watchdog_restarts_a_hung_worker_only_while_work_is_pending():
    clock = FakeClock()
    dog = Watchdog(WatchdogConfig(hang_seconds=10.0, start_seconds=40.0), clock=clock)
    clock.now += 30
    assert dog.check(alive=True, pending=True) is None  # still starting (loading torch and the model)
    dog.result_arrived()
    clock.now += 30
    assert dog.check(alive=True, pending=False) is None  # idle is not hung
    assert dog.check(alive=True, pending=True) == "hung"
    clock.now += 30
    assert dog.check(alive=True, pending=True) is None  # the new worker gets a full start budget
    dog.result_arrived()
    clock.now += 9
    assert dog.check(alive=True, pending=True) is None
    clock.now += 2
    assert dog.check(alive=True, pending=True) == "hung"


class BlockedClient:
    """A client whose worker is stuck: submit and poll must still return at once (they never wait on it)."""

    mode = "fake"

    def __init__(self) -> None:
        self.release = threading.Event()  # never set: the worker is busy for good
        self.submitted = []
        self.polls = 0
        self.alive = True

    def submit(self, request, *, barrier: bool = False) -> int:
        self.submitted.append(request)
        return len(self.submitted)

    def poll(self):
        self.polls += 1
        return None

    def restart(self) -> None:
        pass

    def close(self, **_) -> None:
        self.release.set()


@pytest.fixture
def small_app(small_model_file, tmp_path):
    from demo.app.app import App
    from demo.app.config import AppConfig

    def make(client, *, clock=None, **overrides):
        config = dict(model=str(small_model_file), size=(480, 360), device="cpu", candidates=2, steps=4, top_k=2,
                      max_fps=60, save_dir=tmp_path / "saves", hud=False)
        config.update(overrides)
        return App(AppConfig(**config), client=client, **({} if clock is None else {"clock": clock}))

    return make


def test_frames_never_wait_for_a_busy_worker(small_app):
    """With a worker that never answers, frames still run every stage: input is taken, edits are submitted."""
    from demo.tools.session import Event

    client = BlockedClient()
    app = small_app(client)
    try:
        records = [app.frame() for _ in range(5)]
        app.on_event(Event(t=0.0, type="down", tool="color", x=0.5, y=0.5, color=(200, 0, 0), width=0.2), at=0.0)
        records += [app.frame() for _ in range(5)]
        assert not client.release.is_set()  # the worker never got going
        assert client.polls == 10 and all(list(r.stages) == list(STAGES) for r in records)
        assert len(client.submitted) >= 1
        assert app.controller.state.active is not None
    finally:
        app.close()


def test_idle_app_frames_are_not_drawn_and_sleep(small_app):
    """An idle window draws nothing and sleeps out the rest of every frame (no busy spin). On a fake clock:
    each frame's work is made to take 5 ms, so the loop must sleep the other 1/60 - 5 ms, through the client's
    sleep (which a result would end early)."""
    clock = FakeClock()

    class SleepingBlockedClient(BlockedClient):
        def sleep(self, seconds: float) -> None:
            clock.sleep(seconds)

    app = small_app(SleepingBlockedClient(), clock=clock)
    app.loop.listeners.append(lambda record: clock.advance(0.005))  # the frame's work, in fake time
    try:
        for _ in range(10):  # the first frames draw the "loading" canvas and take the window's own events
            app.frame()
        clock.slept.clear()
        records = []
        for _ in range(20):
            records.append(app.frame())
            app.pace()
        assert not any(record.drawn for record in records)
        assert clock.slept == pytest.approx([1 / 60 - 0.005] * 20)
        # Each frame starts one period after the one before: slept to the frame boundary, not spun past it.
        starts = [record.start for record in records]
        assert np.diff(starts) == pytest.approx([1 / 60] * 19)
    finally:
        app.close()


def test_the_worker_ends_when_the_app_is_killed(small_model_file, tmp_path):
    """SIGKILL of a running app (window, process worker) leaves no worker and no resource tracker behind."""
    import os
    import signal
    import subprocess
    import sys
    import time

    import psutil

    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen"}
    app = subprocess.Popen([sys.executable, "-m", "demo", "--model", str(small_model_file), "--device", "cpu",
                            "--candidates", "2", "--size", "480x360", "--save-dir", str(tmp_path)],
                           env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        children = []
        while time.monotonic() < deadline and len(children) < 2:  # the worker and multiprocessing's tracker
            children = psutil.Process(app.pid).children(recursive=True)
            time.sleep(0.2)
        assert len(children) >= 1, "the app started no worker"
        app.send_signal(signal.SIGKILL)
        app.wait(10)
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, [p.cmdline() for p in alive]
    finally:
        if app.poll() is None:
            app.kill()


def test_startup_marks_the_preview_then_the_first_generated_image_once_each():
    from types import SimpleNamespace

    from demo.app.loop.startup import StartupMarks

    clock = FakeClock()
    marks = StartupMarks(clock=clock, preview_pending=True)
    heard: list[tuple[str, float]] = []
    marks.listeners.append(lambda mark, t: heard.append((mark, t)))
    image = np.zeros((1, 4, 4, 3), np.uint8)
    projecting = SimpleNamespace(images=image, projecting=True)
    generated = SimpleNamespace(images=image, projecting=False)
    assert marks.frames_after_first_image(0) is None
    marks.presented(0, None)  # the shipped preview, before the worker answered
    clock.now += 1.0
    marks.presented(1, projecting)  # a photo's projection in progress is not the first image
    clock.now += 1.0
    marks.presented(2, generated)
    clock.now += 1.0
    marks.presented(3, generated)
    assert heard == [("preview", 100.0), ("first_image", 102.0)]
    assert (marks.preview_at, marks.first_image_at, marks.first_image_frame) == (100.0, 102.0, 2)
    assert marks.frames_after_first_image(4) == 3 and not marks.preview_pending


def test_eyedropper_colour_is_the_pixel_under_image_coordinates():
    from demo.app.edit.effects import color_at

    image = np.arange(4 * 4 * 3, dtype=np.uint8).reshape(4, 4, 3)
    assert color_at(image, (0.0, 0.0)) == tuple(image[0, 0])
    assert color_at(image, (0.6, 0.3)) == tuple(image[1, 2])
    assert color_at(image, (1.0, 1.0)) == tuple(image[3, 3])  # the far edge stays inside
