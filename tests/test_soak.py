"""The soak command end to end: the real CLI, app, kiosk and simulated visitor, for a few seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from demo.bench.soak_visitor import visit_steps
from demo.tools.session import read_session

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_a_visit_taps_colour_and_tool_before_each_stroke_and_can_flood_and_save():
    session = read_session(os.path.join(ROOT, "assets", "sessions", "attract_1_sunset_lake.jsonl"))
    steps = visit_steps(session, save=True, flood=True)
    kinds = [step.kind for step in steps]
    downs = [i for i, kind in enumerate(kinds) if kind == "down"]
    assert len(downs) == sum(event.type == "down" for event in session.events)
    assert all(kinds[i - 1] == "tap_tool" for i in downs)
    assert kinds[-2:] == ["flood", "save"]
    assert [step.t for step in steps] == sorted(step.t for step in steps)


def test_soak_runs_the_kiosk_app_and_reports_memory_frames_and_errors(small_model_file, tmp_path):
    report_path = tmp_path / "soak.json"
    command = [sys.executable, "-m", "demo", "soak", "--minutes", "0.3", "--warmup", "3", "--worker", "thread",
               "--model", str(small_model_file), "--candidates", "2", "--idle-seconds", "4", "--reset-seconds", "2",
               "--hang-seconds", "120", "--size", "640x480", "--json", str(report_path)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy"})
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(report_path.read_text())
    assert report["errors"] == 0 and report["worker_restarts"] == 0, report["error_messages"]
    assert report["frames"] > report["frames_drawn"] > 0
    assert report["rss_mb_start"] > 0 and report["rss_mb_end"] > 0
    assert abs(report["rss_growth_mb"] - (report["rss_mb_end"] - report["rss_mb_start"])) <= 0.11  # each rounded
    assert len(report["frame_ms_p95_per_minute"]) == 1 and len(report["rss_mb_per_minute"]) == 1
    shares = report["cpu_share_per_minute"]
    assert set(shares) == {"app", "worker", "others"} and all(len(v) == 1 for v in shares.values())
    assert shares["app"][0] > 0 and shares["worker"][0] == 0  # a thread worker's CPU is the app's
    assert all(0 <= v[0] <= 1.01 for v in shares.values())
    assert report["visitor"]["visits"] >= 1 and report["visitor"]["strokes"] >= 1
    assert set(report["kiosk"]) == {"attract_rounds", "resets", "unattended_saves", "wakes"}
    assert report["goal"]["met"] == (report["rss_growth_mb"] <= 10)


def test_soak_refuses_bad_arguments_in_one_line(capsys):
    from demo.cli import main

    assert main(["soak", "--minutes", "0"]) == 2
    assert "--minutes" in capsys.readouterr().err
