"""The operations tables of a station's TOML config file: ``[metrics]`` and ``[gallery]`` (no pygame, no GL).

``[metrics]`` turns on the Prometheus endpoint of a station; ``[gallery]`` says where the gallery is (the
QR code's base URL) and what it publishes. The kiosk (``demo/app/kiosk/config.py``) and the gallery
command read the same file, so one file describes a station. Every unknown key or bad value is one
``UserError`` line naming the file and the key.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, fields
from pathlib import Path

from demo.errors import UserError

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True, kw_only=True)
class MetricsSettings:
    port: int  # http://HOST:PORT/metrics
    host: str = LOOPBACK  # only this machine, unless a host (e.g. "0.0.0.0") is set

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be 1..65535, got {self.port}")


@dataclass(frozen=True, kw_only=True)
class GallerySettings:
    url: str = ""  # the gallery as visitors' phones reach it, e.g. "http://gallery.museum.lan:8040"; "" = no QR
    qr: bool = True  # show a QR code of the picture's page after a visitor saves (needs url)
    qr_seconds: float = 20.0
    publish_photos: bool = False  # show a visitor's own photo (NAME-photo.png) in the gallery
    host: str = LOOPBACK  # where `python -m demo gallery` listens (its flags win)
    port: int = 8040

    def __post_init__(self) -> None:
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must start with http:// or https://, got {self.url!r}")
        if not self.qr_seconds > 0:
            raise ValueError(f"qr_seconds must be > 0, got {self.qr_seconds}")
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be 1..65535, got {self.port}")

    @property
    def shows_qr(self) -> bool:
        return self.qr and bool(self.url)

    def picture_url(self, picture_id: str) -> str:
        """The page of one picture: the base URL and the picture's random id, never a path."""
        return f"{self.url.rstrip('/')}/p/{picture_id}"


def load_toml(path: Path) -> dict:
    """A TOML file as a dict; a UserError line when it is missing, unreadable or malformed."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise UserError(f"{path}: reading TOML needs Python 3.11+ (or `pip install tomli`)") from None
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise UserError(f"{path}: config file not found") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path}: not valid TOML ({exc})") from None


def table_settings(cls, table, *, name: str, source: str):
    """The ``[name]`` table as ``cls`` (a frozen dataclass of bools, numbers and strings); one UserError line
    for a table that is not a table, an unknown key, a wrong type or a bad value."""
    if not isinstance(table, dict):
        raise UserError(f"{source}: {name} must be a table ([{name}])")
    known = {field.name: field for field in fields(cls)}
    for key, value in table.items():
        if key not in known:
            raise UserError(f"{source}: unknown key [{name}].{key} (known: {', '.join(known)})")
        kind = known[key].type
        expected = {"bool": (bool,), "int": (int,), "float": (int, float), "str": (str,)}[kind]
        if not isinstance(value, expected) or (kind != "bool" and isinstance(value, bool)):
            raise UserError(f"{source}: [{name}].{key} must be a {kind}, got {value!r}")
    missing = [f.name for f in known.values() if f.default is MISSING and f.name not in table]
    if missing:
        raise UserError(f"{source}: [{name}] needs {', '.join(missing)}")
    try:
        return cls(**table)
    except ValueError as exc:
        raise UserError(f"{source}: [{name}] {exc}") from None
