"""The DCGAN importer: a plain PyTorch ``state_dict`` of any standard DCGAN generator, whatever its key
names, opened with ``torch.load(weights_only=True)`` alone, so a file that needs code to unpickle is
refused and nothing in it runs. Such a file carries no discriminator or encoder: the model it makes has
G only (``project --method opt`` works; encoder and hybrid say they need E)."""

from __future__ import annotations

import pickle
import re
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
    """Map any standard DCGAN generator state_dict onto our ``Generator``, whatever its key names and order.

    The stack is found by structure, not by the order of the keys: ConvTranspose2d weights ([in, out, 4, 4])
    taken in natural order of their module paths (main.2 before main.10; convTr2 before convTr10) when their
    channels chain, else in the order their channels chain; each BatchNorm2d goes to the conv whose width it
    has (natural order among equal widths). The last conv makes 1 or 3 channels. A ``module.`` prefix
    (DataParallel) is ignored. nz, widths, depth, resolution and channels come from the shapes.
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


def natural_key(path: str) -> tuple:
    """Sort key of a module path with its numbers compared as numbers: main.2 < main.10, convTr2 < convTr10."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", path) if part)


def _modules(state: dict[str, torch.Tensor]) -> dict[str, dict[str, torch.Tensor]]:
    """Tensors grouped by module path (``module.`` prefixes dropped), in natural order of the paths."""
    modules: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        prefix, _, leaf = key.removeprefix("module.").rpartition(".")
        modules.setdefault(prefix, {})[leaf] = value
    return {prefix: modules[prefix] for prefix in sorted(modules, key=natural_key)}


def _chain(convs: list[dict[str, torch.Tensor]]) -> list[dict[str, torch.Tensor]] | None:
    """The convs in an order where each one's input channels are the previous one's output channels and the last
    makes 1 or 3 channels, preferring the given (natural) order; None if there is none."""

    def extend(order: list[int]) -> list[int] | None:
        if len(order) == len(convs):
            return order if convs[order[-1]]["weight"].shape[1] in (1, 3) else None
        for i in range(len(convs)):
            if i not in order and (not order or convs[i]["weight"].shape[0] == convs[order[-1]]["weight"].shape[1]):
                found = extend(order + [i])
                if found is not None:
                    return found
        return None

    order = extend([])
    return None if order is None else [convs[i] for i in order]


def _import_one(state: dict[str, torch.Tensor]) -> tuple[GeneratorConfig, dict[str, torch.Tensor]]:
    # Sort the modules into transposed convs and batch norms, each in natural order of their paths.
    convs: list[dict[str, torch.Tensor]] = []
    norms: list[dict[str, torch.Tensor]] = []
    for prefix, params in _modules(state).items():
        if "running_mean" in params:
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
    for i, conv in enumerate(convs):
        if tuple(conv["weight"].shape[2:]) != (4, 4):
            raise ValueError(f"layer {i} has kernel {tuple(conv['weight'].shape[2:])}, expected 4x4")
    # Order the convs by how their channels chain.
    chained = _chain(convs)
    if chained is None:
        shapes = [tuple(c["weight"].shape[:2]) for c in convs]
        raise ValueError(f"the transposed convs' channels (in, out) {shapes} do not chain into a stack ending in 1 or 3")
    convs = chained
    shapes = [tuple(c["weight"].shape) for c in convs]
    # Give each conv but the last the first unused batch norm of its width.
    paired: list[dict[str, torch.Tensor]] = []
    for i, shape in enumerate(shapes[:-1]):
        width = shape[1]
        norm = next((n for n in norms if not any(n is p for p in paired) and tuple(n["running_mean"].shape) == (width,)), None)
        if norm is None:
            raise ValueError(f"no batch norm of width {width} for layer {i}")
        for leaf, value in norm.items():
            if leaf != "num_batches_tracked" and tuple(value.shape) != (width,):
                raise ValueError(f"batch norm {i} {leaf} has shape {tuple(value.shape)}, expected ({width},)")
        paired.append(norm)
    for i, conv in enumerate(convs):
        if "bias" in conv and tuple(conv["bias"].shape) != (shapes[i][1],):
            raise ValueError(f"layer {i} bias has shape {tuple(conv['bias'].shape)}, expected ({shapes[i][1]},)")
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
        if i < len(paired):
            norm = dict(paired[i])
            norm.setdefault("num_batches_tracked", torch.tensor(0))
            for leaf, value in norm.items():
                ours[f"main.{3 * i + 1}.{leaf}"] = value
    return config, ours
