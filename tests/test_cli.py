"""The command line: `edit` end to end, help, and bad input giving one clear line and exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from demo.cli import main
from demo.tools.session import Event, write_session

ROOT = Path(__file__).resolve().parents[1]


def session_file(tmp_path, *, sketch=True):
    events = [Event(t=0, type="down", tool="color", x=0.1, y=0.3, color=(200, 120, 60), width=0.2),
              Event(t=0.1, type="move", x=0.9, y=0.3), Event(t=0.2, type="up")]
    if sketch:
        events += [Event(t=0.3, type="down", tool="sketch", x=0.1, y=0.7, width=0.05),
                   Event(t=0.4, type="move", x=0.9, y=0.6), Event(t=0.5, type="up")]
    return write_session(tmp_path / "s.jsonl", events)


def test_edit_writes_images_and_report(tmp_path, small_model_file):
    out = tmp_path / "out"
    code = main(["edit", "--model", str(small_model_file), "--session", str(session_file(tmp_path)),
                 "--out", str(out), "--steps", "25", "--candidates", "4", "--device", "cpu", "--seed", "3"])
    assert code == 0
    for name in ("best.png", "candidates.png", "report.json"):
        assert (out / name).stat().st_size > 0
    from PIL import Image

    best, display = Image.open(out / "best.png"), Image.open(out / "best_display.png")
    assert display.size == (4 * best.size[0], 4 * best.size[1])  # by the display upsampler
    report = json.loads((out / "report.json").read_text())
    for key in ("steps", "candidates", "seconds", "device", "loss_initial", "loss_final", "color_error_initial",
                "color_error_final", "sketch_error_initial", "sketch_error_final"):
        assert key in report, key
    assert report["steps"] == 2 * 25  # 25 after each of the 2 strokes
    assert report["candidates"] == 4
    assert report["device"] == "cpu"
    assert report["loss_final"] < report["loss_initial"]
    assert report["color_error_final"] < report["color_error_initial"]


def test_edit_is_deterministic_on_cpu(tmp_path, small_model_file):
    session = session_file(tmp_path, sketch=False)
    reports = []
    for name in ("a", "b"):
        main(["edit", "--model", str(small_model_file), "--session", str(session), "--out", str(tmp_path / name),
              "--steps", "8", "--candidates", "3", "--device", "cpu"])
        reports.append(json.loads((tmp_path / name / "report.json").read_text()))
        reports[-1].pop("seconds")
    assert reports[0] == reports[1]
    assert (tmp_path / "a" / "best.png").read_bytes() == (tmp_path / "b" / "best.png").read_bytes()


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "demo", *args], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_help_teaches():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "examples:" in result.stdout and "edit" in result.stdout
    edit_help = run_cli("edit", "--help")
    assert "--session" in edit_help.stdout and "report.json" in edit_help.stdout


@pytest.mark.parametrize("case", ["missing-model", "corrupt-model", "malformed-session", "missing-session"])
def test_bad_input_gives_one_clear_message(tmp_path, small_model_file, case):
    session = session_file(tmp_path)
    model = str(small_model_file)
    if case == "missing-model":
        model, needle = str(tmp_path / "nope.safetensors"), "nope.safetensors: model file not found"
    elif case == "corrupt-model":
        bad = tmp_path / "bad.safetensors"
        bad.write_bytes(b"not a model at all" * 10)
        model, needle = str(bad), "bad.safetensors: not a readable safetensors file"
    elif case == "malformed-session":
        session = tmp_path / "broken.jsonl"
        session.write_text('{"t": 0, "type": "up"}\n{"t": 0, "type": "down", "tool": "color", "x": 7, "y": 0}\n')
        needle = "broken.jsonl:2:"
    else:
        session, needle = tmp_path / "absent.jsonl", "absent.jsonl: session file not found"
    result = run_cli("edit", "--model", model, "--session", str(session), "--out", str(tmp_path / "o"), "--device", "cpu")
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
