"""The DCGAN importer: a plain PyTorch ``state_dict`` of any standard DCGAN generator, whatever its key
names, opened with ``torch.load(weights_only=True)`` alone, so a file that needs code to unpickle is
refused and nothing in it runs. Such a file carries no discriminator or encoder: the model it makes has
G only (``project --method opt`` works; encoder and hybrid say they need E)."""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any, Mapping

import torch

from demo.engine.checkpoint.card import LoadedModel, card_for
from demo.engine.networks import Generator, GeneratorConfig
from demo.errors import UserError


def load_pickled(path: Path) -> LoadedModel:
    """A ``.pth``/``.pt`` generator state_dict as a G-only model (latent prior assumed normal)."""
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
        notes=f"Imported from {path.name}; latent prior assumed normal (pytorch/examples convention). "
              "Generator only: no discriminator or encoder.",
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
    for i, (conv, norm) in enumerate(zip(convs, norms)):
        width = shapes[i][1]
        for leaf, value in norm.items():
            if leaf != "num_batches_tracked" and tuple(value.shape) != (width,):
                raise ValueError(f"batch norm {i} {leaf} has shape {tuple(value.shape)}, expected ({width},)")
        if "bias" in conv and tuple(conv["bias"].shape) != (width,):
            raise ValueError(f"layer {i} bias has shape {tuple(conv['bias'].shape)}, expected ({width},)")
    if shapes[-1][1] not in (1, 3):
        raise ValueError(f"the last layer makes {shapes[-1][1]} channels, expected 1 (grey) or 3 (RGB)")
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
