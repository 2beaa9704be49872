"""Finding and loading a model: ``NAME`` in models/, a path, or ``random`` (the stand-in)."""

from __future__ import annotations

from pathlib import Path

import torch

from demo.engine.checkpoint.card import LoadedModel
from demo.engine.checkpoint.dcgan_import import load_pickled
from demo.engine.checkpoint.safetensors_io import load_safetensors
from demo.engine.checkpoint.stand_in import STAND_IN_NAME, random_stand_in
from demo.model_files import DEFAULT_MODEL, MODELS_DIR, WEIGHT_SUFFIXES, resolve_model_path

__all__ = ["DEFAULT_MODEL", "MODELS_DIR", "WEIGHT_SUFFIXES", "load_model", "resolve_model_path"]

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
