"""The metrics' own bookkeeping, from plain status snapshots: steps keep counting across a worker restart,
an error is counted once however long it stays on screen, the listener keeps a bounded window of its
own cost, and the exposition parses with prometheus_client's parser."""

from __future__ import annotations

from types import SimpleNamespace

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from demo.app.edit.ui_state import Notice
from demo.app.kiosk.kiosk import KioskCounts
from demo.app.loop.timing import FrameRecord
from demo.ops.metrics import COST_WINDOW, StationMetrics


def status(*, steps: int, error: str | None = None, notice: Notice | None = None, restarts: int = 0):
    result = SimpleNamespace(steps_total=steps, worker_pid=4242, model_name="m", device="cpu")
    return SimpleNamespace(error=error, notice=notice, result=result, frames=7, solver_restarts=restarts,
                           kiosk=KioskCounts(attract_rounds=1, resets=2, unattended_saves=3, wakes=4, visits=5,
                                             strokes=6, saves=7))


def samples(metrics: StationMetrics) -> dict[str, float]:
    text = generate_latest(metrics.registry).decode()
    return {sample.name + str(sorted(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_steps_survive_a_restart_and_errors_count_once():
    metrics = StationMetrics(station="s", version="1", gl_renderer=lambda: "llvmpipe")
    error = Notice(text="worker restarted", kind="error")
    for now, snapshot in enumerate([status(steps=100), status(steps=150, error="boom"), status(steps=160, error="boom"),
                                    status(steps=20, notice=error, restarts=1), status(steps=30, notice=error, restarts=1)]):
        metrics.copy_counts(snapshot, float(now))
    counts = metrics.counts
    assert counts["solver_steps"] == 190 and counts["errors"] == 2 and counts["worker_restarts"] == 1
    found = samples(metrics)
    assert found["igan_solver_steps_total[]"] == 190 and found["igan_errors_total[]"] == 2
    assert found["igan_saves_total[('kind', 'visitor')]"] == 7 and found["igan_visits_total[]"] == 5
    info = [key for key in found if key.startswith("igan_station_info")]
    assert len(info) == 1 and "llvmpipe" in info[0] and "('model', 'm')" in info[0]


def test_the_listener_keeps_a_bounded_window_and_observes_drawn_frames_only():
    metrics = StationMetrics(station="s", version="1")
    metrics.watch(lambda: status(steps=0))
    for index in range(COST_WINDOW + 100):
        record = FrameRecord(index=index, start=index / 60)
        record.mark("present", index / 60 + 0.01)
        record.drawn = index % 2 == 0
        record.shown_inputs = [index / 60 - 0.05] if record.drawn else []
        metrics.frame(record)
    assert len(metrics.costs) == COST_WINDOW and metrics.cost_us()["frames"] == COST_WINDOW
    found = samples(metrics)
    assert found["igan_frame_seconds_count[]"] == (COST_WINDOW + 100) // 2
    assert found["igan_pen_to_image_seconds_count[]"] == (COST_WINDOW + 100) // 2
