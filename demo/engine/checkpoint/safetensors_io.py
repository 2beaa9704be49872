"""Our format: ``NAME.safetensors`` (tensors ``G.*``, ``D.*``, ``E.*``, the card embedded as metadata)
beside ``NAME.json``, the model card. safetensors holds only tensors, so loading runs no code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from demo.engine.checkpoint.card import LoadedModel, ModelCard
from demo.engine.networks import Discriminator, Encoder, Generator
from demo.errors import UserError
from demo.safe_files import replace_file, replacing


def save_model(path: str | Path, card: ModelCard, *, G: Generator, D: Discriminator | None = None, E: Encoder | None = None) -> Path:
    """Write ``path`` (.safetensors) and its card ``path.with_suffix('.json')``, each replaced all at once."""
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    for prefix, net in (("G", G), ("D", D), ("E", E)):
        if net is not None:
            for key, value in net.state_dict().items():
                tensors[f"{prefix}.{key}"] = value.detach().cpu().contiguous().clone()
    write_model_file(path, tensors, card_text=card.to_json())
    return path


def write_model_file(path: Path, tensors: dict[str, torch.Tensor], *, card_text: str) -> None:
    """Replace ``path`` (.safetensors, the card embedded) and then its .json card, each all at once."""
    with replacing(path) as temp:
        save_file(tensors, temp, metadata={"card": card_text})
    replace_file(path.with_suffix(".json"), card_text + "\n")


def embed_card(path: str | Path) -> Path:
    """Copy the card beside ``path`` (.json) into the file's metadata, so the file alone carries it (atomic replace).

    The .json card is the one that is read; the embedded copy is for a .safetensors file that travels alone.
    """
    path = Path(path).with_suffix(".safetensors")
    card_text = path.with_suffix(".json").read_text()
    tensors = load_file(str(path))
    with safe_open(str(path), framework="pt") as handle:
        metadata = dict(handle.metadata() or {})
    metadata["card"] = json.dumps(json.loads(card_text))
    with replacing(path) as temp:
        save_file(tensors, temp, metadata=metadata)
    return path


def load_safetensors(path: Path) -> LoadedModel:
    """G, and D and E when the card describes them and the file holds their weights (on the CPU)."""
    try:
        tensors = load_file(str(path))
        with safe_open(str(path), framework="pt") as handle:
            metadata = handle.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable safetensors file ({exc})") from None
    card_path = path.with_suffix(".json")
    try:
        card_data = json.loads(card_path.read_text()) if card_path.exists() else json.loads(metadata["card"])
    except KeyError:
        raise UserError(f"{path}: no model card ({card_path.name} missing and none embedded)") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{card_path}: model card is not valid JSON ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{card_path}: cannot read the model card ({exc})") from None
    card = ModelCard.from_dict(card_data, source=str(card_path))

    def part(prefix: str) -> dict[str, torch.Tensor]:
        return {k[len(prefix) + 1 :]: v for k, v in tensors.items() if k.startswith(prefix + ".")}

    G = _build(path, "generator", lambda: Generator(card.generator_config()), part("G"))
    D = E = None
    if card.discriminator and part("D"):
        D = _build(path, "discriminator", lambda: Discriminator(card.critic_config(card.discriminator)), part("D"))
    if card.encoder and part("E"):
        E = _build(path, "encoder", lambda: Encoder(card.critic_config(card.encoder), nz=card.nz, prior=card.prior), part("E"))
    return LoadedModel(card=card, G=G, D=D, E=E)


def _build(path: Path, what: str, make: Callable[[], torch.nn.Module], state: dict[str, torch.Tensor]) -> torch.nn.Module:
    try:
        net = make()
    except (ValueError, TypeError, KeyError) as exc:
        raise UserError(f"{path}: model card describes an invalid {what} ({exc})") from None
    if not state:
        raise UserError(f"{path}: holds no {what} weights")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise UserError(f"{path}: {what} weights do not match the model card ({' '.join(first[:3])[:300]})") from None
    return net


def update_card(card_path: str | Path, **fields) -> Path:
    """Set ``fields`` in a card's JSON, leaving every other field as it is (replaced all at once).

    A .safetensors file beside the card gets the new card embedded too.
    """
    card_path = Path(card_path)
    try:
        data = json.loads(card_path.read_text())
    except FileNotFoundError:
        raise UserError(f"{card_path}: model card not found") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"{card_path}: cannot read the model card ({exc})") from None
    data.update(fields)
    replace_file(card_path, json.dumps(data, indent=2) + "\n")
    if card_path.with_suffix(".safetensors").exists():
        embed_card(card_path)
    return card_path
