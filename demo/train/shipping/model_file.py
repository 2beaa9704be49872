"""Model files as training writes them: our safetensors + card, plus the raw generator for resuming.

``models/NAME.safetensors`` holds ``G.*`` (the EMA generator that is sampled), ``D.*`` and ``E.*``
(see demo/engine/checkpoint.py). Training also stores ``G_raw.*``, the generator Adam was updating,
so a run can continue from the shipped file on a machine without ``runs/`` (Adam restarts fresh;
its state would double the file). Loaders that do not know ``G_raw`` ignore it.
The card keeps fields that other tools add (e.g. ``start_seeds``) when training rewrites it, and the
`bench solver` figures while G keeps its shape; the start previews named by the card are redrawn from
the new generator.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file

from demo.engine.checkpoint import ModelCard, save_model
from demo.engine.checkpoint.safetensors_io import write_model_file
from demo.engine.networks import Discriminator, Encoder, Generator, GeneratorConfig
from demo.errors import UserError

RAW_G_PREFIX = "G_raw"
CARD_FIELDS_WRITTEN_BY_TRAINING = ("name", "resolution", "nz", "prior", "generator", "discriminator", "encoder", "dataset",
                                   "licence", "training", "metrics", "notes", "stand_in", "version")


def save_trained_model(path: str | Path, card: ModelCard, *, G: Generator, D: Discriminator | None = None,
                       E: Encoder | None = None, raw_G: Generator | None = None) -> Path:
    """Write ``path``.safetensors (G, D, E and the raw G) and its card, keeping card fields training does not own."""
    path = Path(path).with_suffix(".safetensors")
    card_path = path.with_suffix(".json")
    old_card = _read_card(card_path)
    kept = {k: v for k, v in old_card.items() if k not in CARD_FIELDS_WRITTEN_BY_TRAINING}
    saved = save_model(path, card, G=G, D=D, E=E)
    new_card = json.loads(card.to_json())
    speed = _speed_figures_of_the_same_network(old_card, new_card)
    if raw_G is None and not kept and not speed:
        return saved
    tensors = load_file(str(saved))
    if raw_G is not None:
        for key, value in raw_G.state_dict().items():
            tensors[f"{RAW_G_PREFIX}.{key}"] = value.detach().cpu().contiguous().clone()
    text = json.dumps({**new_card, "metrics": {**new_card.get("metrics", {}), **speed}, **kept}, indent=2)
    write_model_file(saved, tensors, card_text=text)
    if kept.get("start_previews"):  # the new G starts elsewhere: redraw what the app shows while it loads
        from demo.engine.checkpoint.start_previews import write_start_previews

        write_start_previews(saved)
    return saved


def load_raw_generator_state(path: str | Path) -> dict[str, torch.Tensor] | None:
    """The ``G_raw.*`` tensors of a model file, or None when it has none (files from before they were shipped)."""
    if Path(path).suffix != ".safetensors":
        return None
    try:
        tensors = load_file(str(path))
    except (SafetensorError, OSError) as exc:
        raise UserError(f"{path}: not a readable safetensors file ({exc})") from None
    prefix = RAW_G_PREFIX + "."
    state = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
    return state or None


def load_raw_generator(path: str | Path, config: GeneratorConfig) -> Generator | None:
    """The raw G of a model file as a network (eval mode), or None: what a rewrite of the file must keep,
    because a later GAN run resumes from it."""
    state = load_raw_generator_state(path)
    if state is None:
        return None
    raw_G = Generator(config)
    raw_G.load_state_dict(state)
    return raw_G.eval()


def _read_card(card_path: Path) -> dict:
    if not card_path.exists():
        return {}
    try:
        return json.loads(card_path.read_text())
    except json.JSONDecodeError:
        return {}


def _speed_figures_of_the_same_network(old_card: dict, new_card: dict) -> dict:
    """The old card's solver speed figures (``metrics.solver_*``, measured by `bench solver`, not by training)
    when the new G has the same shape: the speed depends on the network's shape and resolution, not on its
    weights. A G of another shape gets none (measure it again)."""
    same_network = all(old_card.get(key) == new_card.get(key) for key in ("generator", "resolution", "nz"))
    if not same_network:
        return {}
    return {k: v for k, v in old_card.get("metrics", {}).items() if k.startswith("solver_")}
