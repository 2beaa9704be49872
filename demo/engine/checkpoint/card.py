"""The model card (everything needed to rebuild the networks, plus provenance, metrics and curated
start seeds) and ``LoadedModel``, the networks of one model on one device."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from demo.engine.networks import PRIORS, CriticConfig, Discriminator, Encoder, Generator, GeneratorConfig
from demo.errors import UserError


@dataclass(frozen=True, kw_only=True)
class ModelCard:
    """Everything needed to rebuild the networks, plus provenance and measured metrics."""

    name: str
    resolution: int
    nz: int
    prior: str
    generator: dict[str, Any]
    discriminator: dict[str, Any] | None = None
    encoder: dict[str, Any] | None = None
    dataset: str = "unknown"
    licence: str = "unknown"
    training: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    notes: str = ""
    stand_in: bool = False  # True for random-weight generators that only stand in for a trained one.
    start_seeds: tuple[int, ...] | None = None  # curated seeds whose starts look good (see start_seeds.py)
    # The display network's inference settings for this G's images (UpsamplerConfig fields such as
    # "input_smoothing" and "fidelity_limit"), over the network file's own; empty: the file's as they are.
    display: dict[str, Any] = field(default_factory=dict)
    version: int = 1

    def generator_config(self) -> GeneratorConfig:
        return GeneratorConfig(
            resolution=self.resolution,
            nz=self.nz,
            widths=tuple(self.generator["widths"]),
            channels=self.generator.get("channels", 3),
            conv_bias=self.generator.get("conv_bias", False),
        )

    def critic_config(self, part: dict[str, Any]) -> CriticConfig:
        return CriticConfig(
            resolution=self.resolution,
            widths=tuple(part["widths"]),
            channels=self.generator.get("channels", 3),
            spectral_norm=part.get("spectral_norm", True),
            input_tone=part.get("input_tone", "linear"),
        )

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data (``start_seeds`` only when curated)."""
        data = dataclasses.asdict(self)
        if data["start_seeds"] is None:
            del data["start_seeds"]
        else:
            data["start_seeds"] = list(data["start_seeds"])
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str) -> "ModelCard":
        if not isinstance(data, Mapping):
            raise UserError(f"{source}: model card must be a JSON object, got {type(data).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if values.get("start_seeds") is not None:
            values["start_seeds"] = parse_start_seeds(values["start_seeds"], source=source)
        try:
            card = cls(**values)
        except TypeError as exc:
            raise UserError(f"{source}: model card is missing fields ({exc})") from None
        if card.prior not in PRIORS:
            raise UserError(f"{source}: model card prior must be one of {PRIORS}, got {card.prior!r}")
        for key in ("resolution", "nz"):
            value = getattr(card, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"{source}: model card {key!r} must be a positive integer, got {value!r}")
        if not isinstance(card.display, Mapping):
            raise UserError(f"{source}: model card 'display' must be an object of display settings, got {card.display!r}")
        if not isinstance(card.generator, Mapping) or not isinstance(card.generator.get("widths"), (list, tuple)):
            raise UserError(f"{source}: model card 'generator' must hold a list of 'widths', got {card.generator!r}")
        return card


def parse_start_seeds(value: Any, *, source: str) -> tuple[int, ...]:
    """A card's ``start_seeds``: a non-empty list of distinct non-negative integers."""
    if (not isinstance(value, (list, tuple)) or not value
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in value)):
        raise UserError(f"{source}: model card 'start_seeds' must be a non-empty list of non-negative integers, "
                        f"got {value!r}")
    if len(set(value)) != len(value):
        raise UserError(f"{source}: model card 'start_seeds' lists a seed twice: {list(value)!r}")
    return tuple(int(s) for s in value)


def start_seed_for(card: ModelCard, seed: int) -> int:
    """The seed that draws the start for ``seed``: the card's curated seeds in turn, when it has them.

    The engine's reset uses this, so that no visitor starts on a black image; without curated
    seeds every seed draws its own start.
    """
    if not card.start_seeds:
        return int(seed)
    return card.start_seeds[int(seed) % len(card.start_seeds)]


@dataclass
class LoadedModel:
    """The networks of one model, in eval mode, on one device."""

    card: ModelCard
    G: Generator
    D: Discriminator | None
    E: Encoder | None
    path: Path | None = None

    def to(self, device: torch.device | str) -> "LoadedModel":
        for net in (self.G, self.D, self.E):
            if net is not None:
                net.to(device).eval().requires_grad_(False)
        return self


def card_for(
    *,
    name: str,
    G: Generator,
    prior: str,
    D: Discriminator | None = None,
    E: Encoder | None = None,
    **provenance: Any,
) -> ModelCard:
    """Describe networks as a card (provenance: dataset, licence, training, metrics, notes, stand_in, start_seeds)."""
    gc = G.config
    part = lambda net: None if net is None else {"widths": list(net.config.widths), "spectral_norm": net.config.spectral_norm,
                                                   "input_tone": net.config.input_tone}
    return ModelCard(
        name=name,
        resolution=gc.resolution,
        nz=gc.nz,
        prior=prior,
        generator={"widths": list(gc.widths), "channels": gc.channels, "conv_bias": gc.conv_bias},
        discriminator=part(D),
        encoder=part(E),
        **provenance,
    )
