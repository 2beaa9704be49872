"""Session files and brushes: parsing, errors with line numbers, rasterisation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from demo.errors import UserError
from demo.tools.brushes import Stroke, rasterise
from demo.tools.edit_state import EditState
from demo.tools.session import Event, SessionWriter, parse_lines, read_session, write_session


def lines(*objs) -> list[str]:
    return [json.dumps(o) for o in objs]


DOWN = {"t": 0, "type": "down", "tool": "color", "x": 0.5, "y": 0.5, "pressure": 1, "color": [255, 0, 0], "width": 0.1}


def test_round_trip(tmp_path):
    events = [Event(t=0.0, type="down", tool="sketch", x=0.1, y=0.2, pressure=0.5, color=(1, 2, 3), width=0.02),
              Event(t=0.1, type="move", x=0.3, y=0.4, pressure=0.7), Event(t=0.2, type="up"),
              Event(t=0.3, type="command", name="pick", index=2), Event(t=0.4, type="command", name="fix")]
    path = write_session(tmp_path / "s.jsonl", events, meta={"model": "landscape64"})
    session = read_session(path)
    assert session.meta["model"] == "landscape64" and session.meta["version"] == 1
    assert session.events == tuple(events)


@pytest.mark.parametrize(
    "bad, line, reason",
    [
        (["{not json"], 1, "not valid JSON"),
        (lines(DOWN, {"t": 1, "type": "move", "x": 2.0, "y": 0.5}), 2, "outside"),
        (lines(DOWN, {"t": 1, "type": "move", "y": 0.5}), 2, "missing field 'x'"),
        (lines({**DOWN, "tool": "spray"}), 1, "tool"),
        (lines({**DOWN, "color": [255, 0]}), 1, "color"),
        (lines(DOWN, {"type": "command", "name": "explode"}), 2, "name"),
        (lines(DOWN, {"type": "command", "name": "pick"}), 2, "index"),
        (lines(DOWN, {"type": "meta", "version": 1}), 2, "meta"),
        (lines({"type": "meta", "version": 9}), 1, "version"),
        (lines(DOWN, [1, 2]), 2, "JSON object"),
    ],
)
def test_malformed_lines_name_their_line_number(bad, line, reason):
    with pytest.raises(UserError, match=rf"s\.jsonl:{line}: .*{reason}"):
        parse_lines(bad, source="s.jsonl")


def test_unknown_types_are_skipped_with_a_warning():
    with pytest.warns(UserWarning, match="s.jsonl:2: skipping unknown event type 'hover'"):
        session = parse_lines(lines(DOWN, {"t": 0, "type": "hover"}, {"t": 1, "type": "up"}), source="s.jsonl")
    assert [e.type for e in session.events] == ["down", "up"]


def test_missing_session_file(tmp_path):
    with pytest.raises(UserError, match="not found"):
        read_session(tmp_path / "none.jsonl")


def test_writer_flushes_each_line(tmp_path):
    path = tmp_path / "live.jsonl"
    writer = SessionWriter(path, meta={"model": "m"})
    writer.write(Event(t=0, type="up"))
    # Readable before close: nothing is held in a buffer.
    assert len(path.read_text().splitlines()) == 2
    writer.close()


def test_pressure_scales_width_and_coordinates_are_resolution_free():
    light = Stroke(tool="color", color=(255, 0, 0), width=0.2, points=((0.2, 0.5, 0.1), (0.8, 0.5, 0.1)))
    heavy = Stroke(tool="color", color=(255, 0, 0), width=0.2, points=((0.2, 0.5, 1.0), (0.8, 0.5, 1.0)))
    assert rasterise([heavy], 64).color_mask.sum() > 2 * rasterise([light], 64).color_mask.sum()
    small, big = rasterise([heavy], 32), rasterise([heavy], 128)
    # Same fraction of the image covered at any resolution.
    assert abs(small.color_mask.mean() - big.color_mask.mean()) < 0.02
    assert np.allclose(small.color[16, 16], [1, 0, 0])


def test_edit_state_undo_redo_and_erase():
    state = EditState()
    for event in [Event(t=0, type="down", tool="color", x=0.2, y=0.5, color=(0, 255, 0), width=0.2),
                  Event(t=0, type="move", x=0.8, y=0.5), Event(t=0, type="up")]:
        state.apply(event)
    painted = state.constraints(32).color_mask.sum()
    assert painted > 0
    for event in [Event(t=0, type="down", tool="erase", x=0.5, y=0.5, width=0.3), Event(t=0, type="up")]:
        state.apply(event)
    assert state.constraints(32).color_mask.sum() < painted * 0.8
    state.apply(Event(t=0, type="command", name="undo"))
    assert state.constraints(32).color_mask.sum() == pytest.approx(painted)
    state.apply(Event(t=0, type="command", name="redo"))
    assert state.constraints(32).color_mask.sum() < painted * 0.8
    assert state.apply(Event(t=0, type="command", name="fix")) == "fix"
    version = state.version
    assert state.constraints(32).version == version
