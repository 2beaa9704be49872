"""Training inputs of the x4 display upsampler: 256^2 renders, their 64^2 downsamples, G's round trips and
projections of them (cached per data file and GAN file), the degradations towards G's images, and aligned crops.

``prepare(paths, cache)`` -> uint8 tensors; ``sample_batch`` -> a batch of crops; ``degrade`` -> G-like inputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from demo.engine.filters import gaussian_blur
from demo.errors import UserError
from demo.safe_files import replacing

LOW = 64
SCALE = 4
GAN_FOR_KIND = {"landscapes": "landscape64", "avatars": "avatars64"}


def gan_tag(kind: str) -> str:
    """For cache names: a short hash of the GAN file that makes a kind's round trips and projections and of the
    projection loss, so a retrained G or a changed loss gets new inputs, not the previous ones."""
    from demo.engine.projection import cache_tag

    return cache_tag(GAN_FOR_KIND[kind])


@dataclass(frozen=True, kw_only=True)
class Degradation:
    """How far a training input is pushed from the clean downsample towards what G outputs."""

    projection_probability: float = 0.0  # the input is G's own projection of the scene, as it is (see docs/upsampler.md)
    gan_probability: float = 0.7
    gan_blend: tuple[float, float] = (0.15, 0.6)
    blur_probability: float = 0.5
    blur_sigma: tuple[float, float] = (0.3, 0.9)
    grid_probability: float = 0.3
    grid_amplitude: float = 0.03  # in [-1, 1] units
    noise_probability: float = 0.5
    noise_sigma: float = 0.02


def read_dataset(path: Path) -> tuple[str, np.ndarray]:
    """A data folder (landscapes.npy or avatars.npy) or .npy file -> (kind, uint8 [N, 256, 256, 3])."""
    files = [path] if path.suffix == ".npy" else [path / f"{kind}.npy" for kind in GAN_FOR_KIND]
    for file in files:
        if file.exists():
            kind = "avatars" if "avatar" in file.name or "avatar" in str(path) else "landscapes"
            images = np.load(file)
            if images.dtype != np.uint8 or images.ndim != 4 or images.shape[1:] != (LOW * SCALE, LOW * SCALE, 3):
                raise UserError(f"{file}: expected uint8 [N, 256, 256, 3], got {images.dtype} {list(images.shape)}")
            return kind, images
    raise UserError(f"{path}: no landscapes.npy or avatars.npy (make one with: python -m demo data landscapes --size 256)")


def area_down(images: np.ndarray) -> np.ndarray:
    """uint8 [N, 4R, 4R, 3] -> uint8 [N, R, R, 3], as the data command downsamples (INTER_AREA)."""
    return np.stack([cv2.resize(im, (im.shape[1] // SCALE, im.shape[0] // SCALE), interpolation=cv2.INTER_AREA) for im in images])


def gan_round_trip(low: np.ndarray, *, model_name: str, batch: int = 64) -> np.ndarray:
    """G(E(x)) of uint8 [N, 64, 64, 3] images through a shipped GAN: G's own rendering of each scene."""
    from demo.engine.checkpoint import load_model
    from demo.engine.projection import to_uint8

    model = load_model(model_name)
    if model.E is None:
        raise UserError(f"model {model_name!r} has no encoder; the round trip needs one")
    out = []
    with torch.inference_mode():
        for start in range(0, len(low), batch):
            x = torch.from_numpy(low[start : start + batch]).permute(0, 3, 1, 2).float() / 127.5 - 1  # [B, 3, 64, 64]
            out.append(to_uint8(model.G(model.E(x))))
    return np.concatenate(out)


def gan_projection(low: np.ndarray, *, model_name: str, steps: int = 100, batch: int = 64, lr: float = 0.05,
                   progress: bool = True) -> np.ndarray:
    """G's projection of each uint8 [N, 64, 64, 3] image: the encoder's guess, then ``steps`` Adam steps on
    the projection loss, one start per scene, scenes batched. This is what the canvas shows for a scene
    (hybrid projection, less its extra starts), so it is the input the upsampler must sharpen."""
    from demo.engine.checkpoint import load_model
    from demo.engine.inference_generator import inference_generator
    from demo.engine.latent import to_latent, to_param
    from demo.engine.projection import descend, normalised_features, pixel_weights, projection_loss, to_uint8

    model = load_model(model_name)
    if model.E is None:
        raise UserError(f"model {model_name!r} has no encoder; projection needs one")
    G, prior = inference_generator(model.G), model.card.prior
    out = []
    for start in tqdm(range(0, len(low), batch), desc=f"projecting onto {model_name}", unit="batch", disable=not progress):
        targets = torch.from_numpy(low[start : start + batch]).permute(0, 3, 1, 2).float() / 127.5 - 1  # [B, 3, 64, 64]
        with torch.no_grad():
            guess = model.E(targets)  # [B, nz]
            theirs, weights = normalised_features(model, targets), pixel_weights(targets)
        w = to_param(guess, prior).detach().clone().requires_grad_(True)  # [B, nz]
        for _ in descend(w, lambda w: projection_loss(model, G(to_latent(w, prior)), targets, target_features=theirs,
                                                      target_weights=weights),
                         steps=steps, lr=lr):
            pass
        with torch.no_grad():
            out.append(to_uint8(G(to_latent(w, prior))))
    return np.concatenate(out)


def prepare(paths: list[Path], cache: Path, *, limit: int | None = None, projections: bool = False,
            progress: bool = True) -> dict[str, torch.Tensor]:
    """Targets, clean downsamples, GAN round trips and (with ``projections``) G's projections as uint8 [N, 3, H, W]
    tensors, cached per data file and GAN file; ``limit``: the first images of each file only (projecting costs
    about a second per image on a CPU). Without projections, "proj" holds the clean downsamples (never drawn)."""
    stores: dict[str, list[torch.Tensor]] = {"high": [], "low": [], "trip": [], "proj": []}
    for path in paths:
        kind, images = read_dataset(path)
        images = images[:limit]
        stem = cache / f"{path.resolve().name}_{len(images)}_{gan_tag(kind)}.npz"
        saved = dict(np.load(stem)) if stem.exists() else {}
        cached = set(saved)
        if "low" not in saved:
            saved["low"] = area_down(images)
        if "trip" not in saved:
            saved["trip"] = gan_round_trip(saved["low"], model_name=GAN_FOR_KIND[kind])
        if projections and "proj" not in saved:
            saved["proj"] = gan_projection(saved["low"], model_name=GAN_FOR_KIND[kind], progress=progress)
        if set(saved) != cached:
            cache.mkdir(parents=True, exist_ok=True)
            with replacing(stem, suffix=".npz") as temp:  # Whole or not at all: a killed write leaves no torn cache.
                np.savez(temp, **saved)
        proj = saved["proj"] if projections else saved["low"]
        for name, array in (("high", images), ("low", saved["low"]), ("trip", saved["trip"]), ("proj", proj)):
            stores[name].append(torch.from_numpy(array).permute(0, 3, 1, 2))
    return {name: torch.cat(parts) for name, parts in stores.items()}


def degrade(low: torch.Tensor, trip: torch.Tensor, proj: torch.Tensor, *, spec: Degradation,
            generator: torch.Generator) -> torch.Tensor:
    """G-like inputs from clean downsamples low [B, 3, h, w], their GAN round trips trip and G's projections
    proj, all in [-1, 1]: a projection as it is, or a degraded downsample."""
    b = low.shape[0]

    def chance(p: float) -> torch.Tensor:
        return (torch.rand(b, 1, 1, 1, generator=generator) < p).float()

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, 1, 1, 1, generator=generator)

    # Blend towards G's rendering of the same scene.
    x = low + chance(spec.gan_probability) * uniform(*spec.gan_blend) * (trip - low)
    # Soften like G's upsampling layers.
    sigma = (chance(spec.blur_probability) * uniform(*spec.blur_sigma)).flatten()
    x = torch.where(sigma[:, None, None, None] > 0, gaussian_blur(x, sigma), x)
    # Add a faint period-2 checkerboard (transposed-convolution grid) and noise.
    yy, xx = torch.meshgrid(torch.arange(x.shape[2]), torch.arange(x.shape[3]), indexing="ij")
    checker = ((yy + xx) % 2 * 2 - 1).to(x)  # [h, w]
    x = x + chance(spec.grid_probability) * uniform(0, spec.grid_amplitude) * checker
    x = x + chance(spec.noise_probability) * uniform(0, spec.noise_sigma) * torch.randn(x.shape, generator=generator)
    # Round to the 8-bit image G's result is shown as.
    x = ((x.clamp(-1, 1) + 1) * 127.5).round() / 127.5 - 1
    return torch.where(chance(spec.projection_probability) > 0, proj, x)


def random_windows(n: int, *, batch: int, crop: int, generator: torch.Generator):
    """For ``batch`` random crops of side ``crop`` from n 64^2 images: image index, top, left and whether to
    mirror each, as lists (drawn in that order, so a run's crops follow from its generator)."""
    index = torch.randint(n, (batch,), generator=generator)
    ys = torch.randint(LOW - crop + 1, (batch,), generator=generator)
    xs = torch.randint(LOW - crop + 1, (batch,), generator=generator)
    flips = torch.rand(batch, generator=generator) < 0.5
    return index.tolist(), ys.tolist(), xs.tolist(), flips.tolist()


def sample_crops(images: torch.Tensor, *, batch: int, crop: int, generator: torch.Generator) -> torch.Tensor:
    """Random crops (with flips) of uint8 [N, 3, 64, 64] images, in [-1, 1]: [B, 3, c, c]."""
    crops = []
    for i, y, x, flip in zip(*random_windows(images.shape[0], batch=batch, crop=crop, generator=generator)):
        window = images[i, :, y : y + crop, x : x + crop]
        crops.append(window.flip(-1) if flip else window)
    return torch.stack(crops).float() / 127.5 - 1


def sample_batch(data: dict[str, torch.Tensor], *, batch: int, crop: int, generator: torch.Generator):
    """Aligned random crops (with flips), in [-1, 1]: low, trip, proj [B, 3, c, c] and high [B, 3, 4c, 4c]."""
    c = crop
    names = ("low", "trip", "proj", "high")
    crops: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    for i, y, x, flip in zip(*random_windows(data["low"].shape[0], batch=batch, crop=c, generator=generator)):
        for name in names:
            s, size = (SCALE, SCALE * c) if name == "high" else (1, c)
            crop = data[name][i, :, s * y : s * y + size, s * x : s * x + size]
            crops[name].append(crop.flip(-1) if flip else crop)
    return tuple(torch.stack(crops[name]).float() / 127.5 - 1 for name in names)
