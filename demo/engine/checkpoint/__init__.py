"""Checkpoints, split by job:

- ``card``: the model card (``ModelCard``, ``card_for``, curated ``start_seeds``) and ``LoadedModel``;
- ``safetensors_io``: our format, safetensors + JSON card (``save_model``);
- ``dcgan_import``: plain PyTorch DCGAN generator state_dicts, loaded without running code;
- ``stand_in``: the labelled random-weight stand-in (``--model random``);
- ``lookup``: ``NAME`` or path -> model (``load_model``, ``MODELS_DIR``);
- ``start_seeds``: curating a card's start seeds (``python -m demo.engine.checkpoint.start_seeds``).

Loading never executes code from a file: safetensors holds only tensors, and pickle-based
``.pth``/``.pt`` files are opened with ``torch.load(weights_only=True)`` alone.
"""

from demo.engine.checkpoint.card import LoadedModel, ModelCard, card_for, parse_start_seeds, start_seed_for
from demo.engine.checkpoint.dcgan_import import import_generator_state_dict, load_pickled
from demo.engine.checkpoint.lookup import DEFAULT_MODEL, MODELS_DIR, WEIGHT_SUFFIXES, load_model, resolve_model_path
from demo.engine.checkpoint.safetensors_io import load_safetensors, save_model
from demo.engine.checkpoint.stand_in import STAND_IN_NAME, random_stand_in

__all__ = [
    "DEFAULT_MODEL", "MODELS_DIR", "STAND_IN_NAME", "WEIGHT_SUFFIXES", "LoadedModel", "ModelCard", "card_for",
    "import_generator_state_dict", "load_model", "load_pickled", "load_safetensors", "parse_start_seeds",
    "random_stand_in", "resolve_model_path", "save_model", "start_seed_for",
]
