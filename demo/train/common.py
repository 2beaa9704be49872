"""Helpers shared by the trainers: data, checkpoints, sample sheets, priors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from demo.data.grid import image_grid, save_png
from demo.engine import latent
from demo.errors import UserError
from demo.safe_files import replacing

CHECKPOINT_NAME = "checkpoint.pt"
DATA_FILES = ("landscapes.npy", "avatars.npy")  # what `python -m demo data KIND` writes into its folder


def sample_prior(count: int, nz: int, *, prior: str, generator: torch.Generator) -> torch.Tensor:
    """Latents [count, nz] from the model's prior (uniform[-1, 1] or standard normal): the engine's draw, so
    training, export and the app sample the same latents for a seed."""
    return latent.sample_prior(prior, count, nz, generator)


def find_data_file(path: str | Path) -> Path:
    """The .npy a data path names: the file itself, or the landscapes.npy or avatars.npy in a folder."""
    path = Path(path)
    if path.is_dir():
        found = [path / name for name in DATA_FILES if (path / name).exists()]
        if not found:
            raise UserError(f"{path}: no {' or '.join(DATA_FILES)} here (make one with: python -m demo data landscapes --out {path})")
        return found[0]
    if not path.exists():
        raise UserError(f"{path}: data set not found (make one with: python -m demo data landscapes --out DIR)")
    return path


def load_images(path: str | Path, *, resolution: int) -> torch.Tensor:
    """A data set file (uint8 [N, H, W, 3] .npy, or a folder holding landscapes.npy or avatars.npy) -> uint8 [N, 3, H, W]."""
    path = find_data_file(path)
    try:
        array = np.load(path, mmap_mode="r")
    except (ValueError, OSError) as exc:
        raise UserError(f"{path}: not a readable .npy array ({exc})") from None
    if array.dtype != np.uint8 or array.ndim != 4 or array.shape[3] != 3:
        raise UserError(f"{path}: expected uint8 [N, H, W, 3] images, got {array.dtype} {list(array.shape)}")
    if array.shape[1:3] != (resolution, resolution):
        raise UserError(f"{path}: images are {array.shape[2]}x{array.shape[1]}, the model needs {resolution}x{resolution}")
    return torch.from_numpy(np.array(array)).permute(0, 3, 1, 2).contiguous()  # [N, 3, H, W]


def to_model_range(images: torch.Tensor) -> torch.Tensor:
    """uint8 [B, 3, H, W] -> float [-1, 1]."""
    return images.float() / 127.5 - 1.0


def to_uint8_hwc(images: torch.Tensor) -> np.ndarray:
    """float [-1, 1] [B, 3, H, W] -> uint8 [B, H, W, 3]."""
    x = ((images.detach().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.permute(0, 2, 3, 1).numpy()


def save_sheet(path: str | Path, images: torch.Tensor, *, columns: int = 8) -> Path:
    """Write [-1, 1] images [B, 3, H, W] as one PNG grid."""
    return save_png(path, image_grid(to_uint8_hwc(images), columns=columns))


def save_checkpoint(run_dir: Path, state: dict[str, Any]) -> Path:
    """Atomically replace run_dir/checkpoint.pt (a crash mid-write never loses the previous one)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / CHECKPOINT_NAME
    with replacing(path) as temp:
        torch.save(state, temp)
    return path


def load_checkpoint(run_dir: Path, *, mmap: bool = False) -> dict[str, Any] | None:
    """The latest checkpoint in run_dir, or None when the run is new. ``mmap``: map the tensors instead of
    reading them (cheap when only the run's config is wanted)."""
    path = run_dir / CHECKPOINT_NAME
    if not path.exists():
        return None
    try:
        return torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is reported the same way
        raise UserError(f"{path}: not a readable checkpoint ({str(exc).strip()[:200]}); delete it to start over") from None


def check_same_config(run_dir: Path, saved: dict[str, Any], wanted: dict[str, Any], *, ignore: tuple[str, ...],
                      defaults: dict[str, Any] | None = None) -> None:
    """Refuse to resume a run with different hyperparameters (only the ``ignore`` keys may change).

    ``defaults`` stand in for settings a run saved before they existed (it trained with their default)."""
    saved = {**(defaults or {}), **saved}
    diff = {k: (saved.get(k), wanted.get(k)) for k in set(saved) | set(wanted) if k not in ignore and saved.get(k) != wanted.get(k)}
    if diff:
        shown = ", ".join(f"{k}: saved {a!r} vs now {b!r}" for k, (a, b) in sorted(diff.items()))
        raise UserError(f"{run_dir / CHECKPOINT_NAME}: run was started with other settings ({shown}); "
                        "use the same flags to resume, or a new --out")


def rng_state(generator: torch.Generator) -> dict[str, torch.Tensor]:
    return {"generator": generator.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(generator: torch.Generator, state: dict[str, torch.Tensor]) -> None:
    generator.set_state(state["generator"])
    torch.set_rng_state(state["torch"])
