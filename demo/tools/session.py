"""Session files: JSON Lines of input events, normalised so a session replays at any resolution.

Format (one JSON object per line; documented in docs/sessions.md):
- optional first line ``{"type": "meta", "version": 1, "model": ..., "seed": ...}``
- ``{"t": s, "type": "down", "tool": one of the brush registry's tools (color, sketch, warp, line, erase), "x": 0..1, "y": 0..1,
  "pressure": 0..1, "color": [r, g, b], "width": fraction of image width}``
- ``{"t": s, "type": "move", "x": .., "y": .., "pressure": ..}``
- ``{"t": s, "type": "up"}``
- ``{"t": s, "type": "command", "name": "fix"|"reset"|"undo"|"redo"|"pick", "index": N}``

Coordinates have their origin at the top-left of the edited image. Unknown types are skipped
with a warning; a malformed line raises UserError naming the file and line number.
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable

from demo.errors import UserError
from demo.tools.brushes import TOOL_NAMES

TOOLS = TOOL_NAMES  # the brush registry's tools
COMMANDS = ("fix", "reset", "undo", "redo", "pick")
SESSION_VERSION = 1


@dataclass(frozen=True, kw_only=True)
class Event:
    """One input event. ``type`` is down, move, up or command; unused fields keep their defaults."""

    t: float
    type: str
    tool: str | None = None
    x: float = 0.0
    y: float = 0.0
    pressure: float = 1.0
    color: tuple[int, int, int] = (0, 0, 0)
    width: float = 0.05
    name: str | None = None
    index: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The smallest JSON object that reads back as this event."""
        base: dict[str, Any] = {"t": round(self.t, 4), "type": self.type}
        if self.type == "down":
            base.update(tool=self.tool, x=round(self.x, 5), y=round(self.y, 5), pressure=round(self.pressure, 4),
                        color=list(self.color), width=round(self.width, 5))
        elif self.type == "move":
            base.update(x=round(self.x, 5), y=round(self.y, 5), pressure=round(self.pressure, 4))
        elif self.type == "command":
            base["name"] = self.name
            if self.index is not None:
                base["index"] = self.index
        return base


@dataclass(frozen=True, kw_only=True)
class Session:
    meta: dict[str, Any] = field(default_factory=dict)
    events: tuple[Event, ...] = ()


class _LineError(Exception):
    pass


def _number(obj: dict, key: str, default: float | None = None, *, lo: float | None = None, hi: float | None = None) -> float:
    if key not in obj:
        if default is None:
            raise _LineError(f"missing field {key!r}")
        return default
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _LineError(f"field {key!r} must be a finite number, got {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise _LineError(f"field {key!r}={value} is outside {lo}..{hi}")
    return float(value)


def parse_event(obj: Any) -> Event | None:
    """One decoded JSON line -> Event (None for meta). Raises _LineError with the reason."""
    if not isinstance(obj, dict):
        raise _LineError(f"expected a JSON object, got {type(obj).__name__}")
    kind = obj.get("type")
    t = _number(obj, "t", 0.0, lo=0.0)
    if kind == "down":
        tool = obj.get("tool")
        if tool not in TOOLS:
            raise _LineError(f"field 'tool' must be one of {', '.join(TOOLS)}, got {tool!r}")
        color = obj.get("color", [0, 0, 0])
        if (not isinstance(color, list) or len(color) != 3
                or not all(isinstance(c, (int, float)) and not isinstance(c, bool) and 0 <= c <= 255 for c in color)):
            raise _LineError(f"field 'color' must be [r, g, b] in 0..255, got {color!r}")
        return Event(t=t, type="down", tool=tool, x=_number(obj, "x", lo=0, hi=1), y=_number(obj, "y", lo=0, hi=1),
                     pressure=_number(obj, "pressure", 1.0, lo=0, hi=1), color=tuple(int(round(c)) for c in color),
                     width=_number(obj, "width", 0.05, lo=0, hi=1))
    if kind == "move":
        return Event(t=t, type="move", x=_number(obj, "x", lo=0, hi=1), y=_number(obj, "y", lo=0, hi=1),
                     pressure=_number(obj, "pressure", 1.0, lo=0, hi=1))
    if kind == "up":
        return Event(t=t, type="up")
    if kind == "command":
        name = obj.get("name")
        if name not in COMMANDS:
            raise _LineError(f"field 'name' must be one of {', '.join(COMMANDS)}, got {name!r}")
        index = obj.get("index")
        if index is not None and (isinstance(index, bool) or not isinstance(index, int) or index < 0):
            raise _LineError(f"field 'index' must be a non-negative integer, got {index!r}")
        if name == "pick" and index is None:
            raise _LineError("command 'pick' needs an 'index'")
        return Event(t=t, type="command", name=name, index=index)
    raise KeyError(kind)


def parse_lines(lines: Iterable[str], *, source: str = "session") -> Session:
    meta: dict[str, Any] = {}
    events: list[Event] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{source}:{number}: not valid JSON ({exc.msg})") from None
        except RecursionError:
            raise UserError(f"{source}:{number}: not a session line (JSON nested too deeply)") from None
        if isinstance(obj, dict) and obj.get("type") == "meta":
            if events or meta:
                raise UserError(f"{source}:{number}: a meta line may only be the first line")
            version = obj.get("version", SESSION_VERSION)
            if version != SESSION_VERSION:
                raise UserError(f"{source}:{number}: session version {version!r} is not supported (expected {SESSION_VERSION})")
            meta = dict(obj)
            continue
        try:
            events.append(parse_event(obj))
        except KeyError as exc:
            warnings.warn(f"{source}:{number}: skipping unknown event type {exc.args[0]!r}", stacklevel=2)
        except _LineError as exc:
            raise UserError(f"{source}:{number}: {exc}") from None
    return Session(meta=meta, events=tuple(events))


def read_session(path: str | Path) -> Session:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UserError(f"{path}: session file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read session ({exc})") from None
    return parse_lines(text.splitlines(), source=str(path))


class SessionWriter:
    """Appends events to a JSONL file, flushing each line so a crash loses nothing."""

    def __init__(self, path: str | Path, *, meta: dict[str, Any] | None = None):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] = self.path.open("w", encoding="utf-8")
        self._file.write(json.dumps({"type": "meta", "version": SESSION_VERSION, **(meta or {})}) + "\n")
        self._file.flush()

    def write(self, event: Event) -> None:
        self._file.write(json.dumps(event.to_json()) + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> "SessionWriter":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_session(path: str | Path, events: Iterable[Event], *, meta: dict[str, Any] | None = None) -> Path:
    with SessionWriter(path, meta=meta) as writer:
        for event in events:
            writer.write(event)
    return Path(path)


__all__ = ["Event", "Session", "SessionWriter", "read_session", "parse_lines", "write_session", "TOOLS", "COMMANDS", "asdict"]
