"""The engine API in sync and async mode: newest request only, stamps, errors as result.error,
strokes rasterised in the worker, pre-emption of a chunk by a newer request, stage timings, and
lowering K when CUDA runs out of memory (injected: there is no GPU in CI)."""

from __future__ import annotations

import os
import time
import pickle
import queue
import threading

import numpy as np
import pytest
import torch

from demo.engine.api import EVALUATE, QUEUE_WAIT, RASTERISE, STEP, EditRequest, EditResult, IgnoredCommand, apply_command
from demo.engine.engine import Engine
from demo.engine.solver import ConstraintSolver
from demo.engine.worker import AsyncClient, SyncClient, fold_skipped
from demo.engine.worker_main import serve
from demo.tools.brushes import rasterise
from demo.tools.edit_state import EditState
from demo.tools.raster import IncrementalRaster
from demo.tools.session import Event
from demo.tools.stroke import Stroke


def line(color=(255, 0, 0), y=0.5, tool="color"):
    return Stroke(tool=tool, color=color, width=0.25, points=((0.2, y, 1.0), (0.8, y, 1.0)))


def request(model, **fields) -> EditRequest:
    fields.setdefault("strokes", (line(),))
    fields.setdefault("strokes_version", 1)
    return EditRequest(model=str(model), device="cpu", **fields)


def test_worker_keeps_only_the_newest_request(small_model_file):
    requests, results = queue.Queue(), queue.Queue()
    # Five requests are waiting before the worker starts: it must work on the last one only.
    for stamp in range(1, 6):
        requests.put(request(small_model_file, candidates=3, steps=2, stamp=stamp))
    worker = threading.Thread(target=serve, args=(requests, results))
    worker.start()
    seen = [results.get(timeout=60)]
    while seen[-1].steps_left:
        seen.append(results.get(timeout=60))
    requests.put(None)
    worker.join(60)
    assert not worker.is_alive()
    assert {r.stamp for r in seen} == {5}
    assert all(r.error is None for r in seen)
    assert sum(r.chunk_steps for r in seen) == 2


def test_stale_results_are_dropped_after_a_barrier(small_model_file):
    client = SyncClient()
    base = EditRequest(model=str(small_model_file), device="cpu", candidates=2, steps=0)
    client.submit(base)
    first = client.poll()
    assert first is not None and first.stamp == 1
    # A result older than a barrier (e.g. computed before a reset) is never returned.
    stale = first
    client.submit(base, barrier=True)
    assert client._accept(stale) is None
    fresh = client.poll()
    assert fresh is not None and fresh.stamp == 2


def test_engine_errors_become_result_error(tmp_path):
    engine = Engine()
    engine.submit(EditRequest(model=str(tmp_path / "missing.safetensors"), device="cpu", stamp=4))
    result = engine.run()
    assert result.stamp == 4 and not result.ok
    assert "missing.safetensors" in result.error


def test_the_worker_rasterises_the_strokes_it_is_sent(small_model_file):
    engine = Engine()
    engine.submit(request(small_model_file, candidates=2, steps=0, strokes=(line((0, 0, 255)),), strokes_version=7))
    result = engine.run()
    assert result.error is None and RASTERISE in result.timings
    want = rasterise([line((0, 0, 255))], 32)
    assert np.array_equal(engine._constraints.color_mask, want.color_mask)
    # The same version again is not rasterised again; a new one is.
    engine.submit(request(small_model_file, candidates=2, steps=0, strokes=(line((0, 0, 255)),), strokes_version=7))
    assert RASTERISE not in engine.run().timings
    engine.submit(request(small_model_file, candidates=2, steps=0, strokes=(), strokes_version=8))
    assert RASTERISE in engine.run().timings and engine._constraints.is_empty


def test_incremental_raster_equals_a_full_one_for_strokes_that_crossed_a_pipe():
    state, raster = EditState(), IncrementalRaster()
    red, green = (250, 30, 30), (30, 220, 60)
    events = [
        Event(t=0, type="down", tool="color", x=0.05, y=0.2, color=red, width=0.3), Event(t=0, type="move", x=0.9, y=0.2),
        Event(t=0, type="up"), Event(t=0, type="down", tool="color", x=0.05, y=0.8, color=green, width=0.3),
        Event(t=0, type="move", x=0.5, y=0.8), Event(t=0, type="move", x=0.95, y=0.7), Event(t=0, type="up"),
        Event(t=1, type="down", tool="erase", x=0.5, y=0.5, pressure=0.5, width=0.2), Event(t=1, type="move", x=0.6, y=0.2),
        Event(t=1, type="up"), Event(t=1, type="down", tool="sketch", x=0.1, y=0.9, width=0.05),
        Event(t=1, type="move", x=0.9, y=0.1, pressure=0.4), Event(t=1, type="up"), Event(t=1, type="command", name="undo"),
        Event(t=1, type="command", name="redo"), Event(t=1, type="down", tool="warp", x=0.3, y=0.3, width=0.2),
        Event(t=1, type="move", x=0.4, y=0.35), Event(t=1, type="up"), Event(t=1, type="command", name="undo"),
        Event(t=1, type="command", name="undo"), Event(t=1, type="down", tool="color", x=0.5, y=0.5, color=red, width=0.1),
    ]
    for event in events:
        state.apply(event)
        # As in the worker: a fresh copy of every stroke each time, equal by value only.
        strokes = pickle.loads(pickle.dumps(tuple(state.visible_strokes)))
        got = raster.constraints(strokes, 32, version=state.version)
        want = rasterise(state.visible_strokes, 32)
        assert got.version == state.version
        for name in ("color", "color_mask", "sketch", "sketch_mask", "warp", "warp_mask"):
            assert np.array_equal(getattr(got, name), getattr(want, name)), (event, name)


def test_a_growing_stroke_rasterised_a_capsule_at_a_time_equals_a_full_raster():
    """The coverage memo draws only a growing stroke's new capsules; every version equals a fresh raster."""
    state, raster = EditState(), IncrementalRaster()
    for tool, y in (("color", 0.3), ("sketch", 0.6), ("erase", 0.45), ("color", 0.8)):
        state.apply(Event(t=0, type="down", tool=tool, x=0.05, y=y, color=(200, 90, 40), width=0.08, pressure=0.7))
        for i in range(1, 25):
            state.apply(Event(t=0, type="move", x=0.05 + 0.035 * i, y=y + 0.05 * np.sin(i / 3), pressure=0.4 + 0.02 * i))
            strokes = pickle.loads(pickle.dumps(tuple(state.visible_strokes)))
            got = raster.constraints(strokes, 32, version=state.version)
            want = rasterise(state.visible_strokes, 32)
            for name in ("color", "color_mask", "sketch", "sketch_mask", "warp_mask"):
                assert np.array_equal(getattr(got, name), getattr(want, name)), (tool, i, name)
        state.apply(Event(t=0, type="up"))


def test_commands_change_the_request_the_same_way_for_app_and_replay():
    base = EditRequest(model="m", pick=3)
    assert apply_command(base, "fix", index=None, shown_slots=[]).fix == 1
    reset = apply_command(base, "reset", index=None, shown_slots=[])
    assert reset.start == 1 and reset.pick is None
    assert apply_command(base, "pick", index=1, shown_slots=[5, 2, 7]).pick == 2
    assert apply_command(base, "undo", index=None, shown_slots=[]) == base
    assert base.fix == 0 and base.start == 0  # pure
    # A pick of a thumbnail that is not shown is ignored, with one line saying so.
    with pytest.warns(IgnoredCommand, match="pick 3 ignored"):
        assert apply_command(base, "pick", index=3, shown_slots=[5, 2, 7]) is base
    told = []
    assert apply_command(base, "pick", index=-1, shown_slots=[5], on_ignored=told.append) is base
    assert len(told) == 1 and "pick -1 ignored" in told[0]


def test_a_newer_request_cuts_the_chunk_short(small_model_file):
    engine = Engine()
    engine.submit(request(small_model_file, candidates=2, steps=1000, chunk_seconds=600))
    first = engine.run()  # A new request's first chunk is one step, for the first image that saw it.
    assert first.error is None and first.chunk_steps == 1 and not first.preempted
    asked = []

    def newer_after_three_steps() -> bool:
        asked.append(1)
        return len(asked) >= 3

    result = engine.run(should_stop=newer_after_three_steps)
    assert result.error is None and result.preempted
    assert result.chunk_steps == 3 and result.steps_left == 996


class SignallingSolver(ConstraintSolver):
    """A real solver that says when it starts its second chunk (the first is a single step)."""

    stepping = threading.Event()
    chunks = 0

    def step(self, n: int = 1, **options):
        SignallingSolver.chunks += 1
        if SignallingSolver.chunks == 2:
            SignallingSolver.stepping.set()
        return super().step(n, **options)


def test_the_worker_preempts_a_chunk_in_flight(small_model_file):
    requests, results = queue.Queue(), queue.Queue()
    worker = threading.Thread(target=serve, args=(requests, results, lambda: Engine(solver_factory=SignallingSolver)))
    worker.start()
    try:
        # A chunk that would run for ten minutes without pre-emption.
        requests.put(request(small_model_file, candidates=2, steps=10**6, chunk_seconds=600, stamp=1))
        assert SignallingSolver.stepping.wait(120)
        requests.put(request(small_model_file, candidates=2, steps=2, stamp=2))
        seen = [results.get(timeout=120)]
        while seen[-1].stamp != 2 or seen[-1].steps_left:
            seen.append(results.get(timeout=120))
    finally:
        requests.put(None)
        worker.join(60)
    first = [r for r in seen if r.stamp == 1]
    assert first and first[-1].preempted and first[-1].steps_left > 0
    assert seen[-1].error is None


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_async_clients_step_stamp_and_time_their_stages(small_model_file, mode):
    client = AsyncClient(mode, torch_threads=1)
    try:
        stamp = client.submit(request(small_model_file, candidates=3, steps=12, top_k=2, strokes=(line((0, 0, 255)),)))
        first = client.wait(timeout=120, until=lambda r: r.stamp == stamp)
        done = first if first.steps_left == 0 else client.wait(timeout=120, until=lambda r: r.stamp == stamp and r.steps_left == 0)
        assert done is not None and done.error is None
        assert done.steps_done == 12 and done.images.shape == (2, 32, 32, 3) and done.images.dtype == np.uint8
        # The first result of a request says how long it waited, was rasterised, stepped and evaluated.
        names = [name for name, _, _ in first.spans]
        assert {QUEUE_WAIT, RASTERISE, STEP, EVALUATE} <= set(names)
        assert all(start <= end for _, start, end in first.spans)
        assert first.timings[STEP] == pytest.approx(sum(e - s for n, s, e in first.spans if n == STEP))
        assert first.worker_pid == client.worker_pid and first.worker_rss_mb > 0
        assert (first.worker_pid == os.getpid()) == (mode == "thread")
        # The worker can be replaced without the client (the window) going away.
        client.restart()
        again = client.wait(timeout=120, until=lambda r: r.steps_left == 0)
        assert again is not None and again.error is None and client.alive
    finally:
        client.close()


@pytest.mark.parametrize("mode", ["thread", "process"])
def test_slow_polls_miss_no_step_and_no_stage_of_a_request(small_model_file, mode):
    # One-step chunks, polled only every 0.3 s: several results arrive between polls, and poll returns
    # the newest. Every step and the request's one queue wait must still reach the caller exactly once.
    client = AsyncClient(mode, torch_threads=1)
    try:
        stamp = client.submit(request(small_model_file, candidates=2, steps=12, chunk_seconds=1e-4))
        polled, deadline = [], time.monotonic() + 120
        while not (polled and polled[-1].steps_left == 0) and time.monotonic() < deadline:
            time.sleep(0.3)
            result = client.poll()
            if result is not None:
                polled.append(result)
        assert polled and polled[-1].steps_left == 0 and all(r.stamp == stamp and r.error is None for r in polled)
        assert sum(r.chunk_steps for r in polled) == polled[-1].steps_done == 12
        assert [name for r in polled for name, _, _ in r.spans].count(QUEUE_WAIT) == 1
    finally:
        client.close()


def test_a_skipped_result_folds_its_chunk_into_the_newest_of_its_request():
    first = EditResult(stamp=3, chunk_steps=2, notice="K lowered to 4", timings={QUEUE_WAIT: 0.1, STEP: 0.5},
                       spans=((QUEUE_WAIT, 0.0, 0.1), (STEP, 0.1, 0.6)), compute_seconds=0.6)
    second = EditResult(stamp=3, chunk_steps=3, timings={STEP: 0.7}, spans=((STEP, 0.7, 1.4),),
                        images=np.ones((1, 4, 4, 3), np.uint8), compute_seconds=0.7)
    folded = fold_skipped(first, second)
    assert folded.chunk_steps == 5 and folded.notice == "K lowered to 4" and folded.images is second.images
    assert folded.compute_seconds == pytest.approx(1.3)
    assert folded.timings == pytest.approx({QUEUE_WAIT: 0.1, STEP: 1.2})
    assert folded.spans == first.spans + second.spans
    # A newer request's result keeps its own chunk; only the notice (still news) is carried over, once.
    newer = EditResult(stamp=4, chunk_steps=1, notice="K lowered to 4", timings={STEP: 0.2})
    across = fold_skipped(folded, newer)
    assert across.chunk_steps == 1 and across.timings == {STEP: 0.2} and across.notice == "K lowered to 4"
    assert fold_skipped(EditResult(stamp=4, notice="a"), EditResult(stamp=4, notice="b")).notice == "a; b"


class OutOfMemoryAboveTwo(ConstraintSolver):
    """A real solver on which a step with more than two candidates fails as CUDA does when memory runs out."""

    def step(self, n: int = 1):
        if self.candidates > 2:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (injected)")
        return super().step(n)


def test_out_of_memory_halves_k_keeps_the_best_and_carries_on(small_model_file):
    engine = Engine(solver_factory=OutOfMemoryAboveTwo)
    engine.submit(request(small_model_file, candidates=8, steps=0))
    before = engine.run()
    assert before.error is None and before.candidates == 8
    engine.submit(request(small_model_file, candidates=8, steps=3))
    results = [engine.run()]
    while results[-1].steps_left and results[-1].error is None:
        results.append(engine.run())
    after = results[-1]
    assert after.error is None and after.candidates == 2 and after.steps_left == 0
    assert "out of GPU memory" in results[0].notice
    # The two candidates kept are the best two of the last ranking (same start latents).
    kept = sorted(map(tuple, after.z0.round(6)))
    assert kept == sorted(map(tuple, before.z0[:2].round(6)))
    # The next request with the same settings stays at K=2 (no rebuild, no second notice).
    engine.submit(request(small_model_file, candidates=8, steps=1))
    again = engine.run()
    assert again.candidates == 2 and again.notice is None and again.error is None


def test_a_notice_is_told_once_not_again_by_the_follow_ups(small_model_file):
    engine = Engine(solver_factory=OutOfMemoryAboveTwo)
    engine.submit(request(small_model_file, candidates=8, steps=1, morph_frames=2, display=True))
    results = [engine.run()]
    while engine.busy:
        results.append(engine.run())
    assert "out of GPU memory" in results[0].notice and results[0].steps_left == 0
    # The display image and the morph follow, repeating the finished result's images but not its notice.
    follow_ups = results[1:]
    assert follow_ups and follow_ups[-1].morph_display is not None
    assert all(r.error is None and r.notice is None and r.chunk_steps == 0 for r in follow_ups)


def test_a_process_client_sleep_ends_when_a_result_arrives(small_model_file):
    client = AsyncClient("process", torch_threads=1)
    try:
        assert not client.sleep(0.05)  # nothing asked, nothing arrives: the whole sleep
        client.submit(request(small_model_file, candidates=2, steps=2))
        # The pacer's sleep, woken by the result (start-up included). 300 s only guards against a hang: a sleep
        # that ran its full length returns False and fails below, whatever the machine's speed.
        woken = client.sleep(300.0)
        assert woken, "the sleep ran out without a result waking it"
        # It returned because a result had arrived: poll (which never waits) has it at once.
        result = client.poll()
        assert result is not None and result.error is None
    finally:
        client.close()


def test_a_burst_over_the_process_pipe_mid_chunk_is_answered_by_the_newest_only(small_model_file):
    """Newest request wins across the pipe: twenty requests sent while a chunk runs; the chunk in flight is cut
    short, and none of the nineteen superseded requests is carried out (at most a cut-short chunk of one)."""
    client = AsyncClient("process", torch_threads=1)
    seen: list = []

    def record(result) -> bool:
        seen.append(result)
        return False

    try:
        first = client.submit(request(small_model_file, candidates=2, steps=10**6, chunk_seconds=0.2))
        assert client.wait(timeout=120, until=lambda r: r.stamp == first and r.chunk_steps > 0) is not None
        burst = [client.submit(request(small_model_file, candidates=2, steps=200, chunk_seconds=0.05,
                                       strokes=(line((0, 10 * i, 0)),), strokes_version=2 + i)) for i in range(20)]
        newest = burst[-1]
        done = client.wait(timeout=180, until=lambda r: record(r) or (r.stamp == newest and r.steps_left == 0))
    finally:
        client.close()
    assert done is not None and done.error is None and done.steps_left == 0
    superseded = [r for r in seen if r.stamp in burst[:-1]]
    assert all(r.preempted and r.steps_left > 0 for r in superseded)
    assert len({r.stamp for r in superseded}) <= 1
    assert all(r.stamp in (first, newest) or r in superseded for r in seen)
    cut = [r for r in seen if r.stamp == first]
    assert not cut or (cut[-1].preempted and cut[-1].steps_left > 0)  # the chunk in flight was cut short


def test_the_shown_display_image_is_made_under_each_models_own_display_settings():
    """The follow-up's display network takes the request's G's settings (avatars: a smoothed input), and a
    request for another model gets that model's, not the previous one's."""
    from demo.engine.checkpoint import load_model
    from demo.engine.upsample import load_display

    engine = Engine()
    for model in ("avatars64", "landscape64", "avatars64"):
        engine.submit(request(model, candidates=2, steps=1, display=True))
        results = [engine.run()]
        while engine.busy:
            results.append(engine.run())
        shown = next(r for r in results if r.display is not None)
        expected = load_display(settings=load_model(model).card.display).upsample(shown.image)
        assert np.array_equal(shown.display, expected), model
    assert load_model("avatars64").card.display and not load_model("landscape64").card.display
