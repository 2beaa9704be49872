"""Exhibition settings: the ``[kiosk]`` table of a TOML config file, and the file itself (no pygame, no GL).

A config file's top-level keys are the app's flags, spelled as in ``python -m demo app --help`` with
underscores (``model``, ``size = "1280x800"``, ``candidates``, ``device``, ``seed``, ``save_dir``,
``hang_seconds``, ...). Its ``[kiosk]`` table holds ``KioskConfig``'s fields; ``[metrics]`` and
``[gallery]`` (``demo/ops/settings.py``) become its ``metrics`` and ``gallery``. Every unknown key,
wrong type or bad value is one ``UserError`` line naming the file and the key.
"""

from __future__ import annotations

import argparse
import socket
from dataclasses import dataclass, field, fields
from pathlib import Path

from demo.errors import UserError
from demo.ops.settings import GallerySettings, MetricsSettings, load_toml, table_settings

BUNDLED_SESSIONS = Path(__file__).resolve().parents[3] / "assets" / "sessions"
MODIFIERS = ("ctrl", "alt", "shift")


@dataclass(frozen=True, kw_only=True)
class Chord:
    """Keys held together: modifiers (ctrl, alt, shift) and one key name as pygame spells it ("q", "f12")."""

    modifiers: frozenset[str]
    key: str

    @classmethod
    def parse(cls, text: str) -> "Chord":
        """``"ctrl+alt+q"`` -> Chord({ctrl, alt}, "q"): any modifiers, then exactly one other key."""
        parts = [part.strip().lower() for part in text.split("+")]
        modifiers = frozenset(part for part in parts if part in MODIFIERS)
        keys = [part for part in parts if part not in MODIFIERS]
        if len(keys) != 1 or not keys[0] or len(modifiers) + 1 != len(parts):
            raise ValueError(f"expected modifiers and one key, like ctrl+alt+q, got {text!r}")
        return cls(modifiers=modifiers, key=keys[0])

    def __str__(self) -> str:
        return "+".join([m for m in MODIFIERS if m in self.modifiers] + [self.key])


@dataclass(frozen=True, kw_only=True)
class KioskConfig:
    idle_seconds: float = 90.0  # no input for this long: the attract loop starts
    reset_seconds: float = 60.0  # no input for this long: an unattended edit is saved (if it has strokes) and cleared
    attract_sessions: str = str(BUNDLED_SESSIONS / "attract_*.jsonl")  # a glob; played in name order, in a loop
    exit_chord: str = "ctrl+alt+q"  # the operator's exit, held for chord_seconds
    chord_seconds: float = 2.0
    cursor_hide_seconds: float = 3.0  # the mouse cursor hides after this long without moving
    morph_seconds: float = 6.0  # the attract loop plays each finished picture's morph this long
    settle_seconds: float = 20.0  # the attract loop moves on after this long even if the solver has not settled
    station: str = field(default_factory=socket.gethostname)  # names this station's saves and metrics
    gallery: GallerySettings = GallerySettings()  # the [gallery] table: the QR code's base URL
    metrics: MetricsSettings | None = None  # the [metrics] table: None, no metrics endpoint

    def __post_init__(self) -> None:
        if not self.station.strip():
            raise ValueError("station must not be empty")
        for name in ("idle_seconds", "reset_seconds", "chord_seconds", "cursor_hide_seconds", "morph_seconds",
                     "settle_seconds"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        Chord.parse(self.exit_chord)

    @property
    def chord(self) -> Chord:
        return Chord.parse(self.exit_chord)

    def session_paths(self) -> list[Path]:
        """The attract sessions the glob finds, in name order (relative globs count from the working directory)."""
        pattern = Path(self.attract_sessions).expanduser()
        anchor = Path(pattern.anchor) if pattern.is_absolute() else Path(".")
        relative = str(pattern.relative_to(anchor)) if pattern.is_absolute() else str(pattern)
        return sorted(path for path in anchor.glob(relative) if path.is_file())


def kiosk_config(table: dict, *, source: str, gallery: GallerySettings = GallerySettings(),
                 metrics: MetricsSettings | None = None) -> KioskConfig:
    """A ``[kiosk]`` table as a KioskConfig; one UserError line for an unknown key or a bad value."""
    known = {field.name: field for field in fields(KioskConfig) if field.name not in ("gallery", "metrics")}
    values = {}
    for key, value in table.items():
        if key not in known:
            raise UserError(f"{source}: unknown key [kiosk].{key} (known: {', '.join(known)})")
        expected = str if known[key].type == "str" else (int, float)
        if not isinstance(value, expected) or isinstance(value, bool):
            raise UserError(f"{source}: [kiosk].{key} must be a {'string' if expected is str else 'number'}, got {value!r}")
        values[key] = value
    try:
        return KioskConfig(**values, gallery=gallery, metrics=metrics)
    except ValueError as exc:
        raise UserError(f"{source}: [kiosk] {exc}") from None


def apply_config_file(parser: argparse.ArgumentParser, args: argparse.Namespace,
                      path: Path) -> tuple[argparse.Namespace, KioskConfig | None]:
    """``args`` with the file's top-level keys filled in, and its [kiosk] table with its [gallery] and [metrics]
    tables (None without any of the three).

    ``parser`` has the command's flags. Each top-level value goes through its flag's own ``type`` and
    ``choices``, so the file accepts exactly what the command line does. A flag given on the command
    line (a value other than its default) wins over the file.
    """
    data = load_toml(path)
    kiosk_table = data.pop("kiosk", None)
    gallery_table, metrics_table = data.pop("gallery", None), data.pop("metrics", None)
    actions = {action.dest: action for action in parser._actions if action.option_strings}
    updates = {}
    for key, value in data.items():
        action = actions.get(key)
        if action is None or key in ("config", "kiosk", "help"):
            raise UserError(f"{path}: unknown key {key!r} (top-level keys are the app's flags, e.g. model, size, seed)")
        if getattr(args, key, action.default) != action.default:
            continue  # the command line wins
        updates[key] = _flag_value(action, value, source=f"{path}: {key}")
    if kiosk_table is not None and not isinstance(kiosk_table, dict):
        raise UserError(f"{path}: kiosk must be a table ([kiosk])")
    gallery = table_settings(GallerySettings, gallery_table, name="gallery", source=str(path)) if gallery_table is not None else GallerySettings()
    metrics = table_settings(MetricsSettings, metrics_table, name="metrics", source=str(path)) if metrics_table is not None else None
    tables = (kiosk_table, gallery_table, metrics_table)
    kiosk = kiosk_config(kiosk_table or {}, source=str(path), gallery=gallery, metrics=metrics) if tables != (None,) * 3 else None
    return argparse.Namespace(**{**vars(args), **updates}), kiosk


def _flag_value(action: argparse.Action, value, *, source: str):
    """A TOML value as the flag would have parsed it."""
    if action.nargs == 0:  # store_true / store_false
        if not isinstance(value, bool):
            raise UserError(f"{source} must be true or false, got {value!r}")
        return value if action.const is True else not value
    if isinstance(value, (dict, list)):
        raise UserError(f"{source} must be a single value, got {value!r}")
    text = str(value).lower() if isinstance(value, bool) else str(value)
    try:
        parsed = action.type(text) if action.type is not None else text
    except (argparse.ArgumentTypeError, ValueError, TypeError) as exc:
        raise UserError(f"{source}: {exc or 'bad value'} ({value!r})") from None
    if action.choices is not None and parsed not in action.choices:
        raise UserError(f"{source} must be one of {', '.join(map(str, action.choices))}, got {value!r}")
    return parsed
