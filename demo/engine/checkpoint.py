"""Our checkpoint format (safetensors + JSON model card), model lookup and the DCGAN importer.

Loading never executes code from a file: safetensors holds only tensors, and pickle-based
``.pth``/``.pt`` files are opened with ``torch.load(weights_only=True)`` alone.
"""

from __future__ import annotations

import dataclasses
import json
import pickle
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from demo.errors import UserError
from demo.engine.networks import (
    PRIORS,
    CriticConfig,
    Discriminator,
    Encoder,
    Generator,
    GeneratorConfig,
)

MODELS_DIR = Path(__file__).resolve().parents[2] / "models"
DEFAULT_MODEL = "landscape64"
WEIGHT_SUFFIXES = (".safetensors", ".pth", ".pt")


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
        )

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str) -> "ModelCard":
        known = {f.name for f in dataclasses.fields(cls)}
        try:
            card = cls(**{k: v for k, v in data.items() if k in known})
        except TypeError as exc:
            raise UserError(f"{source}: model card is missing fields ({exc})") from None
        if card.prior not in PRIORS:
            raise UserError(f"{source}: model card prior must be one of {PRIORS}, got {card.prior!r}")
        return card


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
    """Describe networks as a card (provenance: dataset, licence, training, metrics, notes, stand_in)."""
    gc = G.config
    part = lambda net: None if net is None else {"widths": list(net.config.widths), "spectral_norm": net.config.spectral_norm}
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


def save_model(path: str | Path, card: ModelCard, *, G: Generator, D: Discriminator | None = None, E: Encoder | None = None) -> Path:
    """Write ``path`` (.safetensors) and its card ``path.with_suffix('.json')``."""
    path = Path(path).with_suffix(".safetensors")
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors: dict[str, torch.Tensor] = {}
    for prefix, net in (("G", G), ("D", D), ("E", E)):
        if net is not None:
            for key, value in net.state_dict().items():
                tensors[f"{prefix}.{key}"] = value.detach().cpu().contiguous().clone()
    save_file(tensors, str(path), metadata={"card": card.to_json()})
    path.with_suffix(".json").write_text(card.to_json() + "\n")
    return path


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


STAND_IN_NAME = "random"


def load_model(model: str | Path, *, device: torch.device | str = "cpu") -> LoadedModel:
    """Load a model by name or path (``random``: a labelled random-weight stand-in).

    Raises UserError naming the file and the reason.
    """
    if str(model) == STAND_IN_NAME:
        return random_stand_in().to(device)
    path = resolve_model_path(model)
    if path.suffix == ".safetensors":
        loaded = _load_safetensors(path)
    else:
        loaded = _load_pickled(path)
    loaded.path = path
    return loaded.to(device)


def _load_safetensors(path: Path) -> LoadedModel:
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


def _build(path: Path, what: str, make, state: dict[str, torch.Tensor]):
    try:
        net = make()
    except ValueError as exc:
        raise UserError(f"{path}: model card describes an invalid {what} ({exc})") from None
    if not state:
        raise UserError(f"{path}: holds no {what} weights")
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()
        raise UserError(f"{path}: {what} weights do not match the model card ({' '.join(first[:3])[:300]})") from None
    return net


def _load_pickled(path: Path) -> LoadedModel:
    try:
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        reason = str(exc).strip().splitlines()[0][:200]
        raise UserError(
            f"{path}: refused: this file needs arbitrary code to unpickle, and loading never runs code "
            f"from a file ({reason}). Re-save it as a plain state_dict (torch.save(net.state_dict(), ...))."
        ) from None
    except (RuntimeError, EOFError, OSError, zipfile.BadZipFile, ValueError) as exc:
        raise UserError(f"{path}: not a readable PyTorch checkpoint ({str(exc).strip()[:200]})") from None
    config, state = import_generator_state_dict(obj, source=str(path))
    G = Generator(config)
    G.load_state_dict(state, strict=True)
    card = card_for(
        name=path.stem,
        G=G,
        prior="normal",
        dataset="unknown (imported)",
        notes=f"Imported from {path.name}; latent prior assumed normal (pytorch/examples convention).",
    )
    return LoadedModel(card=card, G=G, D=None, E=None)


def _tensor_dicts(obj: Any) -> list[dict[str, torch.Tensor]]:
    """The state_dict itself, or those nested one level inside a dict."""
    if not isinstance(obj, Mapping):
        return []
    if obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return [dict(obj)]
    return [dict(v) for v in obj.values() if isinstance(v, Mapping) and v and all(isinstance(t, torch.Tensor) for t in v.values())]


def import_generator_state_dict(obj: Any, *, source: str = "state_dict") -> tuple[GeneratorConfig, dict[str, torch.Tensor]]:
    """Map any standard DCGAN generator state_dict onto our ``Generator``, whatever its key names.

    The stack is read in key order: ConvTranspose2d weights ([in, out, 4, 4]) alternating with
    BatchNorm2d parameters, ending in a ConvTranspose2d to 1 or 3 channels. nz, widths, depth,
    resolution and channels come from the shapes.
    """
    candidates = _tensor_dicts(obj)
    if not candidates:
        raise UserError(f"{source}: holds no state_dict of tensors (nor one nested a level inside a dict)")
    errors = []
    for state in candidates:
        try:
            return _import_one(state)
        except ValueError as exc:
            errors.append(str(exc))
    raise UserError(f"{source}: not a DCGAN generator ({'; '.join(errors)[:300]})")


def _import_one(state: dict[str, torch.Tensor]) -> tuple[GeneratorConfig, dict[str, torch.Tensor]]:
    # Group tensors by module prefix, keeping first-seen order.
    modules: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        prefix, _, leaf = key.rpartition(".")
        modules.setdefault(prefix, {})[leaf] = value
    convs: list[dict[str, torch.Tensor]] = []
    norms: list[dict[str, torch.Tensor]] = []
    for prefix, params in modules.items():
        if "running_mean" in params:
            if len(norms) != len(convs) - 1:
                raise ValueError(f"batch norm {prefix!r} does not follow a transposed conv")
            norms.append(params)
        elif "weight" in params and params["weight"].dim() == 4:
            convs.append(params)
        elif params.get("num_batches_tracked") is not None and len(params) == 1:
            continue
        else:
            raise ValueError(f"unexpected tensors under {prefix!r}: {sorted(params)}")
    if len(convs) < 2:
        raise ValueError("fewer than two transposed conv layers")
    if len(norms) != len(convs) - 1:
        raise ValueError(f"{len(convs)} transposed convs need {len(convs) - 1} batch norms, found {len(norms)}")
    shapes = [tuple(c["weight"].shape) for c in convs]
    for (i, shape) in enumerate(shapes):
        if shape[2:] != (4, 4):
            raise ValueError(f"layer {i} has kernel {shape[2:]}, expected 4x4")
        if i and shape[0] != shapes[i - 1][1]:
            raise ValueError(f"layer {i} takes {shape[0]} channels but layer {i - 1} gives {shapes[i - 1][1]}")
    has_bias = ["bias" in c for c in convs]
    if len(set(has_bias)) != 1:
        raise ValueError("some transposed convs have a bias and some do not")
    config = GeneratorConfig(
        resolution=4 * 2 ** (len(convs) - 1),
        nz=shapes[0][0],
        widths=tuple(s[1] for s in shapes[:-1]),
        channels=shapes[-1][1],
        conv_bias=has_bias[0],
    )
    # Re-key onto our Sequential: conv i -> main.{3i}, its norm -> main.{3i+1}.
    ours: dict[str, torch.Tensor] = {}
    for i, conv in enumerate(convs):
        for leaf, value in conv.items():
            ours[f"main.{3 * i}.{leaf}"] = value
        if i < len(norms):
            norm = dict(norms[i])
            norm.setdefault("num_batches_tracked", torch.tensor(0))
            for leaf, value in norm.items():
                ours[f"main.{3 * i + 1}.{leaf}"] = value
    return config, ours


def random_stand_in(*, resolution: int = 64, nz: int = 100, base: int = 32, seed: int = 0) -> LoadedModel:
    """A random-weight generator, clearly labelled, for use before a trained model exists."""
    torch.manual_seed(seed)
    G = Generator(GeneratorConfig.from_base(resolution=resolution, nz=nz, base=base))
    # Calibrate batch-norm statistics on prior samples, so eval-mode images are not flat.
    for module in G.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            module.momentum = None  # cumulative average
    with torch.no_grad():
        G.train()
        for _ in range(4):
            G(torch.rand(64, nz) * 2 - 1)
    card = card_for(name="random-stand-in", G=G, prior="uniform", stand_in=True,
                    notes="RANDOM WEIGHTS: stands in for a trained model; images are meaningless.")
    return LoadedModel(card=card, G=G, D=None, E=None).to("cpu")
