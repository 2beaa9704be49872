"""Bad input other than images, one fault per test, injected for real: checkpoints, sessions and saving each
give one clear line (UserError; exit 2 and no traceback in the CLI) or are handled (generators without D or
E), and a failed save loses nothing. Image files: test_bad_images.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from cli_errors import assert_one_clear_line, run_cli
from PIL import Image

from demo.app.edit.saving import save_result
from demo.engine.checkpoint import load_model
from demo.errors import UserError
from demo.tools.session import Event, parse_lines

REPO = Path(__file__).resolve().parents[1]
DOWN = {"t": 0, "type": "down", "tool": "color", "x": 0.5, "y": 0.5, "pressure": 1, "color": [255, 0, 0], "width": 0.1}


# Checkpoints.


def test_checkpoint_of_the_wrong_shape_is_one_line(tmp_path, capsys):
    from test_checkpoint import ExamplesNetG

    state = ExamplesNetG(nz=16, ngf=8).state_dict()
    state["main.4.running_mean"] = torch.zeros(7)  # the second batch norm no longer fits its conv
    torch.save(state, tmp_path / "bent.pth")
    with pytest.raises(UserError, match=r"bent\.pth: not a DCGAN generator .*batch norm .*layer 1"):
        load_model(tmp_path / "bent.pth")
    Image.new("RGB", (8, 8)).save(tmp_path / "p.png")
    code, err = run_cli(["project", str(tmp_path / "p.png"), "--model", str(tmp_path / "bent.pth"),
                         "--method", "opt", "--out", str(tmp_path / "o")], capsys)
    assert_one_clear_line(code, err, "bent.pth")


def test_pickle_that_runs_code_is_refused_by_the_cli(tmp_path, capsys):
    from test_checkpoint import RunsCode

    marker = tmp_path / "ran"
    torch.save({"netG": RunsCode(marker)}, tmp_path / "evil.pth")
    Image.new("RGB", (8, 8)).save(tmp_path / "p.png")
    code, err = run_cli(["project", str(tmp_path / "p.png"), "--model", str(tmp_path / "evil.pth"),
                         "--out", str(tmp_path / "o")], capsys)
    assert_one_clear_line(code, err, "evil.pth", "refused")
    assert not marker.exists()


def test_imported_generator_without_d_or_e(tmp_path, capsys):
    """The issue's crash: `project --method opt` on a plain DCGAN state_dict (normal prior, no D, no E)."""
    from test_checkpoint import ExamplesNetG

    torch.manual_seed(0)
    torch.save(ExamplesNetG(nz=8, ngf=4).state_dict(), tmp_path / "netG.pth")
    Image.fromarray((np.random.default_rng(1).random((70, 50, 3)) * 255).astype(np.uint8)).save(tmp_path / "p.png")
    out = tmp_path / "opt"
    code, err = run_cli(["project", str(tmp_path / "p.png"), "--model", str(tmp_path / "netG.pth"), "--method", "opt",
                         "--steps", "2", "--candidates", "2", "--out", str(out), "--device", "cpu"], capsys)
    assert code == 0, err
    report = json.loads((out / "report.json").read_text())
    assert report["perceptual"] is None and np.load(out / "z.npy").shape == (8,)
    for method in ("encoder", "hybrid"):
        code, err = run_cli(["project", str(tmp_path / "p.png"), "--model", str(tmp_path / "netG.pth"),
                             "--method", method, "--out", str(tmp_path / method)], capsys)
        assert_one_clear_line(code, err, "no encoder (E)", f"--method {method} needs", "--method opt")


# Sessions.


@pytest.mark.parametrize(
    "line, reason",
    [
        ({**DOWN, "x": -0.1}, "field 'x'=-0.1 is outside 0..1"),
        ({**DOWN, "y": 1.5}, "field 'y'=1.5 is outside 0..1"),
        ({**DOWN, "pressure": 1.01}, "field 'pressure'=1.01 is outside 0..1"),
        ({**DOWN, "width": 2}, "field 'width'=2 is outside 0..1"),
        ({**DOWN, "width": -0.5}, "field 'width'=-0.5 is outside 0..1"),
        ({**DOWN, "color": [256, 0, 0]}, "field 'color' must be"),
        ({**DOWN, "color": [-1, 0, 0]}, "field 'color' must be"),
        ({**DOWN, "color": "red"}, "field 'color' must be"),
        ({**DOWN, "x": True}, "field 'x' must be a finite number"),
        ({"t": 0, "type": "move", "x": 0.5, "y": 0.5, "pressure": -0.2}, "field 'pressure'=-0.2 is outside"),
        ({"t": -1, "type": "up"}, "field 't'=-1 is outside"),
    ],
)
def test_session_values_out_of_range_name_the_line(line, reason):
    with pytest.raises(UserError, match=rf"s\.jsonl:2: {reason}"):
        parse_lines([json.dumps(DOWN), json.dumps(line)], source="s.jsonl")


def test_session_nan_and_deep_nesting_name_the_line():
    with pytest.raises(UserError, match=r"s\.jsonl:1: field 'x' must be a finite number"):
        parse_lines(['{"t": 0, "type": "move", "x": NaN, "y": 0.5}'], source="s.jsonl")
    with pytest.raises(UserError, match=r"s\.jsonl:1: .*nested too deeply"):
        parse_lines(["[" * 100000 + "]" * 100000], source="s.jsonl")


def test_session_error_in_the_cli_is_one_line(tmp_path, capsys):
    session = tmp_path / "bad.jsonl"
    session.write_text(json.dumps(DOWN) + "\n" + json.dumps({**DOWN, "pressure": 3}) + "\n")
    code, err = run_cli(["edit", "--session", str(session), "--model", "random", "--out", str(tmp_path / "o")], capsys)
    assert_one_clear_line(code, err, "bad.jsonl:2", "pressure")


# Saving: nothing lost.


def test_a_failed_save_leaves_nothing_behind(tmp_path):
    """A write that fails part way (here the file-size limit, as a full disk fails) raises OSError for
    the app's notice and leaves neither a partial file nor a temporary one."""
    script = ("import resource, sys, numpy as np; from demo.app.edit.saving import save_result\n"
              "resource.setrlimit(resource.RLIMIT_FSIZE, (2000, resource.RLIM_INFINITY))\n"
              "noise = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)\n"
              "try:\n"
              "    save_result(sys.argv[1], image=noise, events=[], meta={})\n"
              "except OSError as exc:\n"
              "    print('OSError', exc.errno)\n")
    folder = tmp_path / "saves"
    folder.mkdir()
    out = subprocess.run([sys.executable, "-c", script, str(folder)], cwd=REPO, check=True, capture_output=True, text=True)
    assert out.stdout.startswith("OSError"), out.stdout + out.stderr
    assert list(folder.iterdir()) == []


def test_saves_never_overwrite_and_leave_no_temporary_files(tmp_path):
    image = np.full((8, 8, 3), 7, np.uint8)
    (tmp_path / "igan-19700101-000000.jsonl").write_text("someone else's session\n")  # the first name is taken
    first = save_result(tmp_path, image=image, events=[Event(t=0, type="up")], meta={"model": "m"}, now=0)
    second = save_result(tmp_path, image=image, events=[], meta={"model": "m"}, now=0, photo_result=image)
    assert (first.name, second.name) == ("igan-19700101-000000-1.png", "igan-19700101-000000-2.png")
    assert (tmp_path / "igan-19700101-000000.jsonl").read_text() == "someone else's session\n"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
    assert json.loads(second.with_suffix(".json").read_text())["image"] == second.name
    assert second.with_name(second.stem + "-photo.png").exists()
    assert np.array_equal(cv2.imread(str(first))[..., ::-1], image)
    # Saved files get the mode any new file gets here (not the temporary file's owner-only 0600).
    from demo.safe_files import current_umask

    for path in (first, first.with_suffix(".jsonl"), second.with_name(second.stem + "-photo.png")):
        assert path.stat().st_mode & 0o777 == 0o666 & ~current_umask()
