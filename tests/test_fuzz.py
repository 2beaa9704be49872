"""Property-based fuzzing (hypothesis) of the two parsers of outside files: the session parser and the
image loader. Whatever the input, each either returns well-formed data or raises one UserError.

FUZZ_EXAMPLES=2000 runs a longer search than the suite's default (100 examples a test)."""

from __future__ import annotations

import io
import json
import math
import os
import re
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from PIL import Image

from demo.errors import UserError
from demo.tools.photo import load_photo
from demo.tools.session import COMMANDS, TOOLS, Event, parse_lines

FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", 100)), deadline=None, suppress_health_check=[HealthCheck.too_slow])

# JSON values of every kind, small.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
session_keys = st.sampled_from(["t", "type", "tool", "x", "y", "pressure", "color", "width", "name", "index", "version"])
session_types = st.sampled_from(["down", "move", "up", "command", "meta", "hover", ""]) | st.text(max_size=5)
field_values = (json_values | st.sampled_from([*TOOLS, *COMMANDS]) | st.floats(-0.5, 1.5)
                | st.lists(st.integers(-5, 260), min_size=2, max_size=4))
session_objects = st.builds(lambda fields, kind: {**fields, "type": kind},
                            st.dictionaries(session_keys, field_values, max_size=9), session_types)
session_lines = st.one_of(
    session_objects.map(lambda obj: json.dumps(obj, allow_nan=True)),
    json_values.map(lambda value: json.dumps(value, allow_nan=True)),
    st.text(max_size=40),
)


def check_event(event: Event) -> None:
    """Every value of a parsed event is in its documented range."""
    assert event.type in ("down", "move", "up", "command")
    assert math.isfinite(event.t) and event.t >= 0
    for value in (event.x, event.y, event.pressure, event.width):
        assert math.isfinite(value) and 0 <= value <= 1
    assert len(event.color) == 3 and all(isinstance(c, int) and 0 <= c <= 255 for c in event.color)
    if event.type == "down":
        assert event.tool in TOOLS
    if event.type == "command":
        assert event.name in COMMANDS and (event.index is None or event.index >= 0)
        assert event.name != "pick" or event.index is not None


@FUZZ
@given(st.lists(session_lines, max_size=8))
@example(["{\"type\": \"meta\", \"version\": 1}", "{\"type\": \"up\", \"t\": 1e400}"])
@example(["[" * 5000 + "]" * 5000])
def test_session_parser_returns_valid_events_or_one_user_error(lines):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unknown event types are skipped with a warning
            session = parse_lines(lines, source="fuzz.jsonl")
    except UserError as exc:
        match = re.match(r"fuzz\.jsonl:(\d+): \S", str(exc))
        assert match, str(exc)
        assert 1 <= int(match.group(1)) <= len(lines)
        assert "\n" not in str(exc)
        return
    for event in session.events:
        check_event(event)


unit = st.integers(0, 100000).map(lambda k: k / 100000)
valid_events = st.one_of(
    st.builds(lambda t, tool, x, y, p, c, w: Event(t=t, type="down", tool=tool, x=x, y=y, pressure=p, color=c, width=w),
              st.integers(0, 10**6).map(lambda k: k / 10000), st.sampled_from(TOOLS), unit, unit,
              st.integers(0, 10000).map(lambda k: k / 10000), st.tuples(*[st.integers(0, 255)] * 3), unit),
    st.builds(lambda t, x, y, p: Event(t=t, type="move", x=x, y=y, pressure=p),
              st.integers(0, 10**6).map(lambda k: k / 10000), unit, unit, st.integers(0, 10000).map(lambda k: k / 10000)),
    st.builds(lambda t: Event(t=t, type="up"), st.integers(0, 10**6).map(lambda k: k / 10000)),
    st.builds(lambda t, name, index: Event(t=t, type="command", name=name, index=index if name == "pick" else None),
              st.integers(0, 10**6).map(lambda k: k / 10000), st.sampled_from(COMMANDS), st.integers(0, 63)),
)


@FUZZ
@given(st.lists(valid_events, max_size=12))
def test_valid_events_round_trip_through_json_lines(events):
    session = parse_lines([json.dumps(e.to_json()) for e in events], source="rt.jsonl")
    assert session.events == tuple(events)


# The image loader.

FORMATS = {"PNG": {}, "JPEG": {"quality": 80}, "GIF": {}, "BMP": {}, "TIFF": {}, "WEBP": {"lossless": True}}
MODES = ["RGB", "RGBA", "L", "LA", "P", "1", "CMYK", "I;16"]


def encode(mode: str, fmt: str, width: int, height: int, seed: int) -> bytes:
    """A small random image of ``mode`` in ``fmt`` (converted to a mode the format can hold)."""
    rng = np.random.default_rng(seed)
    image = Image.fromarray((rng.random((height, width, 3)) * 255).astype(np.uint8))
    image = Image.fromarray((rng.random((height, width)) * 65535).astype(np.uint16)) if mode == "I;16" else image.convert(mode)
    buffer = io.BytesIO()
    try:
        image.save(buffer, fmt, **FORMATS[fmt])
    except (OSError, ValueError, KeyError):
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, fmt, **FORMATS[fmt])
    return buffer.getvalue()


images = st.builds(encode, st.sampled_from(MODES), st.sampled_from(sorted(FORMATS)), st.integers(1, 40),
                   st.integers(1, 40), st.integers(0, 2**16))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "photo"


def assert_loads_or_refuses(path) -> np.ndarray | None:
    try:
        photo = load_photo(path)
    except UserError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return None
    assert photo.dtype == np.uint8 and photo.ndim == 3 and photo.shape[2] == 3 and min(photo.shape[:2]) >= 1
    return photo


@FUZZ
@given(data=images)
def test_every_mode_and_format_loads_at_its_size(scratch, data):
    scratch.write_bytes(data)
    photo = assert_loads_or_refuses(scratch)
    with Image.open(io.BytesIO(data)) as original:
        assert photo is not None and photo.shape[:2] == original.size[::-1]


@FUZZ
@given(data=images, cuts=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=6),
       keep=st.floats(0, 1))
def test_damaged_images_load_or_give_one_user_error(scratch, data, cuts, keep):
    damaged = bytearray(data[: max(1, int(len(data) * keep))] if keep < 0.9 else data)
    for position, value in cuts:
        damaged[position % len(damaged)] = value
    scratch.write_bytes(bytes(damaged))
    assert_loads_or_refuses(scratch)


@FUZZ
@given(st.binary(max_size=300))
@example(b"")
@example(b"\x89PNG\r\n\x1a\n")
@example(b"\xff\xd8\xff")
@example(b"GIF89a")
def test_arbitrary_bytes_load_or_give_one_user_error(scratch, data):
    scratch.write_bytes(data)
    assert_loads_or_refuses(scratch)
