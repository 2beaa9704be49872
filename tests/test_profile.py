"""The latency profiler: the real app loop fed a session in real time, and the files it writes.

The end-to-end test runs ``python -m demo profile`` on a 32 px model in an offscreen window; the trace
is checked against the Chrome trace event format that Perfetto reads.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import numpy as np
import pytest

from demo.app.loop.timing import STAGES, FrameRecord
from demo.engine.api import EditResult
from demo.profile.recorder import ProfileRecorder
from demo.tools.session import Event, write_session

REPORT_STATS = {"count", "mean", "p50", "p95", "p99", "max"}


def fake_frame(index: int, start: float, *, shown=()) -> FrameRecord:
    record = FrameRecord(index=index, start=start, drawn=True, steps_done=index, shown_inputs=list(shown))
    for i, stage in enumerate(STAGES):
        record.mark(stage, start + 0.001 * (i + 1))
    return record


def fake_result(stamp: int, t: float, steps_total: int) -> EditResult:
    spans = (("worker.queue_wait", t - 0.03, t - 0.025), ("worker.step", t - 0.02, t - 0.005),
             ("worker.evaluate", t - 0.005, t))
    return EditResult(stamp=stamp, images=np.zeros((1, 4, 4, 3), np.uint8), slots=np.zeros(1, np.int64),
                      losses=np.zeros(1, np.float32), steps_done=steps_total, chunk_steps=2, steps_total=steps_total,
                      finished_at=t, timings={"worker.step": 0.015, "worker.queue_wait": 0.005, "worker.evaluate": 0.005,
                                              "worker.forward": 0.006, "worker.backward": 0.006, "worker.adam": 0.001},
                      spans=spans, worker_pid=424242, worker_rss_mb=300.0, device="cpu", model_name="m", candidates=4)


def test_recorder_writes_report_trace_csv_and_plot(tmp_path):
    recorder = ProfileRecorder(tmp_path / "p", worker_mode="process", settings={"model": "m"})
    t0 = recorder.origin + 1.0
    recorder.window_opened(t0, gl_renderer="llvmpipe")
    recorder.preview_shown(t0 + 0.1)  # the model's start preview, then the engine's first image
    recorder.first_image(t0 + 0.5)
    for i in range(30):
        start = t0 + 0.5 + i / 60
        recorder.result(fake_result(i + 1, start - 0.002, 2 * (i + 1)), start)
        recorder.frame(fake_frame(i, start, shown=[start - 0.05] if i % 5 == 0 else ()))
    paths = recorder.close()
    report = json.loads(paths["report"].read_text())
    assert report["frames"] == 30 and set(report["frame_ms"]) == REPORT_STATS
    assert report["frame_ms"]["p50"] == pytest.approx(7.0)
    assert set(STAGES) <= set(report["stages"]) and "handoff" in report["stages"]
    assert {"worker.queue_wait", "worker.step", "worker.forward", "worker.backward", "worker.adam"} <= set(report["stages"])
    assert report["stages"]["worker.forward"]["p50"] == pytest.approx(3.0)  # per step: 6 ms over 2 steps
    assert report["latency_ms"]["count"] == 6 and report["latency_ms"]["p50"] == pytest.approx(57.0)
    assert report["solver_steps_per_s"] == pytest.approx(120.0, rel=0.01)  # 2 steps per 1/60 s
    assert report["startup"] == {"window_s": pytest.approx(1.0, abs=1e-3), "first_image_s": pytest.approx(1.1, abs=1e-3),
                                 "first_result_s": pytest.approx(1.5, abs=1e-3)}
    assert report["machine"]["cores"] >= 1 and report["device"] == "cpu"
    trace = json.loads(paths["trace"].read_text())["traceEvents"]
    phases = {event["ph"] for event in trace}
    assert {"X", "M", "C", "s", "f"} <= phases
    complete = [e for e in trace if e["ph"] == "X"]
    assert all({"name", "ts", "dur", "pid", "tid"} <= set(e) for e in complete)
    tracks = {(e["pid"], e["tid"]) for e in complete if e["name"] in ("draw", "worker.step")}
    assert len(tracks) == 2  # the UI thread and the worker each have their own track
    assert {e["args"]["name"] for e in trace if e["ph"] == "M" and e["name"] == "thread_name"} >= {"UI thread", "solver worker (process)"}
    assert {e["name"] for e in trace if e["ph"] == "C"} == {"solver steps/s", "memory MB"}
    rows = list(csv.DictReader(paths["frames"].open()))
    assert len(rows) == 30 and rows[0]["latency_ms"] == "57.00" and float(rows[0]["draw_ms"]) == pytest.approx(1.0)
    assert paths["plot"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def profile_run(small_model_file, tmp_path_factory):
    """One real profile: a short session fed in real time to the app with a thread worker."""
    folder = tmp_path_factory.mktemp("profile")
    events = [Event(t=0.0, type="down", tool="color", x=0.1, y=0.2, color=(240, 120, 30), width=0.3)]
    events += [Event(t=0.05 * i, type="move", x=0.1 + 0.08 * i, y=0.2 + 0.02 * i) for i in range(1, 11)]
    events += [Event(t=0.6, type="up"), Event(t=0.8, type="command", name="fix"),
               Event(t=1.0, type="down", tool="line", x=0.1, y=0.8, color=(30, 60, 200), width=0.2),
               Event(t=1.2, type="move", x=0.9, y=0.75), Event(t=1.3, type="up")]
    session = write_session(folder / "s.jsonl", events)
    out = folder / "out"
    completed = subprocess.run(
        [sys.executable, "-m", "demo", "profile", "--headless", "--worker", "thread", "--device", "cpu",
         "--model", str(small_model_file), "--candidates", "2", "--size", "480", "--session", str(session), "--out", str(out)],
        capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    return out, completed.stdout


def test_profile_command_runs_the_real_loop_and_writes_every_file(profile_run):
    out, stdout = profile_run
    assert "pen->image" in stdout
    report = json.loads((out / "report.json").read_text())
    assert report["frames"] > 10 and report["worker"] == "thread"
    assert report["latency_ms"]["count"] > 0 and report["latency_ms"]["p50"] > 0
    assert report["solver_steps_per_s"] > 0
    assert 0 < report["startup"]["window_s"] < report["startup"]["first_image_s"]
    assert {"worker.queue_wait", "worker.rasterise", "worker.step", "worker.evaluate", "handoff"} <= set(report["stages"])
    trace = json.loads((out / "trace.json").read_text())
    flows = [e for e in trace["traceEvents"] if e["ph"] in ("s", "f")]
    assert flows
    # Every flow id has one start and one finish, the finish not before the start, under one name.
    by_id: dict = {}
    for event in flows:
        by_id.setdefault(event["id"], []).append(event)
    for pair in by_id.values():
        assert sorted(e["ph"] for e in pair) == ["f", "s"]
        start, finish = sorted(pair, key=lambda e: e["ph"] != "s")
        assert finish["ts"] >= start["ts"] and finish["name"] == start["name"] and finish["bp"] == "e"
    assert (out / "latency.png").stat().st_size > 1000
    assert len((out / "frames.csv").read_text().splitlines()) > 10
