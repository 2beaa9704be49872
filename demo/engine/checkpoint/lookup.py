"""Finding and loading a model: ``NAME`` in models/, a path, or ``random`` (the stand-in)."""

from __future__ import annotations

from pathlib import Path

import torch

from demo.engine.checkpoint.card import LoadedModel
from demo.engine.checkpoint.dcgan_import import load_pickled
from demo.engine.checkpoint.safetensors_io import load_safetensors
from demo.engine.checkpoint.stand_in import STAND_IN_NAME, random_stand_in
from demo.errors import UserError

MODELS_DIR = Path(__file__).resolve().parents[3] / "models"
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


def load_model(model: str | Path, *, device: torch.device | str = "cpu") -> LoadedModel:
    """Load a model by name or path (``random``: a labelled random-weight stand-in).

    Raises UserError naming the file and the reason.
    """
    if str(model) == STAND_IN_NAME:
        return random_stand_in().to(device)
    path = resolve_model_path(model)
    loaded = load_safetensors(path) if path.suffix == ".safetensors" else load_pickled(path)
    loaded.path = path
    return loaded.to(device)
