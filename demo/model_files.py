"""Where models live and how a model argument names a file (no torch: the app's window side reads cards too)."""

from __future__ import annotations

from pathlib import Path

from demo.errors import UserError

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
DEFAULT_MODEL = "landscape64"
WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt")


def resolve_model_path(model: str | Path) -> Path:
    """``NAME`` -> ``models/NAME.safetensors`` (or .pth/.pt); a path is taken as it is."""
    text = str(model)
    candidate = Path(text).expanduser()
    if candidate.suffix in WEIGHT_SUFFIXES or candidate.exists() or "/" in text:
        if not candidate.exists():
            raise UserError(f"{candidate}: model file not found")
        if candidate.is_dir():
            raise UserError(f"{candidate}: is a folder, expected a .safetensors/.pth model file")
        return candidate
    for suffix in WEIGHT_SUFFIXES:
        found = MODELS_DIR / f"{text}{suffix}"
        if found.exists():
            return found
    available = sorted(p.stem for p in MODELS_DIR.glob("*.safetensors"))
    raise UserError(
        f"model {text!r} not found in {MODELS_DIR} (available: {', '.join(available) or 'none'}); "
        "pass a name from models/ or a path to a .safetensors/.pth file"
    )
