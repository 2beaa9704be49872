"""Photo projection onto the manifold: optimisation, encoder, or hybrid (encoder, then optimisation).

The three methods are pure functions with one signature::

    project_X(model, target, *, steps, seed, device, candidates, progress) -> Projection

``target`` is a [R, R, 3] uint8 image at the model's resolution. The loss is iGAN's: pixel error
plus a feature-space error, here the discriminator's trunk features (a network we train and ship,
so nothing is downloaded); the pixel error weighs the target's bright blobs (a moon) above their area.
Each method's stepping core is ``iter_projection``, a generator the interactive engine drives in chunks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from demo.engine.checkpoint import LoadedModel
from demo.engine.filters import bright_blob_weights
from demo.engine.inference_generator import inference_generator
from demo.engine.latent import sample_prior, to_latent, to_param
from demo.errors import UserError

METHODS = ("opt", "encoder", "hybrid")
DEFAULT_METHOD = "hybrid"
# How much more a bright blob's pixels count in the pixel term: a dim moon is on G's manifold, but counted like
# any other ~10 pixels of sky it was not looked for (docs/training-log.md section 17).
BLOB_GAIN = 4.0
# opt: prior draws per start it picks its starts from (by loss), and the share of its steps L-BFGS spends on the best
# start after Adam on all (an imported DCGAN's own sample: RMSE 21 by Adam alone, 8 so; tests/test_importer.py).
OPT_POOL = 8
OPT_REFINE_SHARE = 0.5
OPT_LR = 0.1


@dataclass(frozen=True, kw_only=True)
class Projection:
    method: str
    z: np.ndarray  # [nz]
    image: np.ndarray  # [R, R, 3] uint8, G(z)
    steps: int
    seconds: float
    pixel_rmse: float  # 0..255 units
    perceptual: float | None  # D-feature distance; None when the model has no discriminator

    def report(self) -> dict:
        return {"method": self.method, "steps": self.steps, "seconds": round(self.seconds, 4),
                "pixel_rmse": round(self.pixel_rmse, 3),
                "perceptual": None if self.perceptual is None else round(self.perceptual, 5)}


def cache_tag(model_name: str) -> str:
    """A short hash of a model file and of the projection loss's settings, for the names of cached projections:
    a retrained G (which keeps its name) or a changed loss gets new projections, not stale ones."""
    import hashlib

    from demo.engine.checkpoint import resolve_model_path

    settings = f"blob gain {BLOB_GAIN}".encode()
    return hashlib.sha1(resolve_model_path(model_name).read_bytes() + settings).hexdigest()[:10]


def to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """[R, R, 3] uint8 -> [1, 3, R, R] in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(image)).to(device).permute(2, 0, 1)[None].float() / 127.5 - 1


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """[B, C, R, R] in [-1, 1] -> [B, R, R, 3] uint8."""
    if images.shape[1] == 1:
        images = images.expand(-1, 3, -1, -1)
    return ((images.clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def normalised_features(model: LoadedModel, images: torch.Tensor) -> list[torch.Tensor] | None:
    """D's trunk features of [B, C, R, R] images, each stage channel-normalised; None without a discriminator."""
    if model.D is None:
        return None
    return [F.normalize(stage, dim=1) for stage in model.D.features(images)]


def feature_distance(model: LoadedModel, images: torch.Tensor, target: torch.Tensor, *,
                     target_features: list[torch.Tensor] | None = None) -> torch.Tensor | None:
    """Mean over D's trunk stages of the squared distance of channel-normalised features. [B]

    ``target_features``: ``normalised_features(model, target)``, when the caller keeps them across steps."""
    ours = normalised_features(model, images)
    if ours is None:
        return None
    if target_features is None:
        with torch.no_grad():
            target_features = normalised_features(model, target)
    total = torch.zeros(images.shape[0], device=images.device)
    for a, b in zip(ours, target_features):
        total = total + ((a - b) ** 2).sum(1).mean((1, 2))
    return total / len(ours)


def pixel_weights(targets: torch.Tensor, *, blob_gain: float = BLOB_GAIN) -> torch.Tensor:
    """Weights [K or 1, 1, R, R] of the pixel term for targets [K or 1, C, R, R], mean 1 per image: bright blobs
    (a moon, a lamp) count ``blob_gain`` times their contrast more than flat areas (filters.bright_blob_weights)."""
    weights = bright_blob_weights(targets, gain=blob_gain)  # [K or 1, 1, R, R]
    return weights / weights.mean((1, 2, 3), keepdim=True)


def projection_loss(model: LoadedModel, images: torch.Tensor, targets: torch.Tensor, *, feature_weight: float = 0.5,
                    target_features: list[torch.Tensor] | None = None,
                    target_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Per-image loss of G's images [K, C, R, R] against targets [K or 1, C, R, R]: pixel MSE, weighted by
    ``pixel_weights(targets)``, plus D's features. [K]

    ``target_features`` and ``target_weights``: the targets', when the caller keeps them across steps."""
    if target_weights is None:
        target_weights = pixel_weights(targets)
    pixel = (target_weights * (images - targets) ** 2).mean((1, 2, 3))  # [K]
    features = feature_distance(model, images, targets, target_features=target_features)
    return pixel if features is None else pixel + feature_weight * features


def descend(w: torch.Tensor, losses: Callable[[torch.Tensor], torch.Tensor], *, steps: int,
            lr: float) -> Iterator[torch.Tensor]:
    """Adam on the leaf parameters ``w`` [K, nz] for ``steps`` steps, minimising ``losses(w).sum()``;
    yields each step's per-start losses [K] (taken before that step's update)."""
    optimizer = torch.optim.Adam([w], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = losses(w)  # [K]
        loss.sum().backward()
        optimizer.step()
        yield loss.detach()


def refine(w: torch.Tensor, losses: Callable[[torch.Tensor], torch.Tensor], *, steps: int, max_evals: int = 3,
           history: int = 20) -> Iterator[torch.Tensor]:
    """L-BFGS (strong-Wolfe line search, at most ``max_evals`` evaluations a step) on the leaf parameters ``w``
    [K, nz] for ``steps`` steps, minimising ``losses(w).sum()``; yields each step's latest per-start losses [K].
    Near the bottom of the basin Adam found, L-BFGS's curvature reaches the fine detail in far fewer steps."""
    optimizer = torch.optim.LBFGS([w], max_iter=1, max_eval=max_evals, history_size=history, line_search_fn="strong_wolfe")
    latest: list[torch.Tensor] = []

    def closure() -> torch.Tensor:
        optimizer.zero_grad(set_to_none=True)
        latest[:] = [losses(w)]  # [K]
        latest[0].sum().backward()
        return latest[0].sum().detach()

    for _ in range(steps):
        optimizer.step(closure)
        yield latest[0].detach()


def _check(model: LoadedModel, target: np.ndarray) -> None:
    r = model.card.resolution
    if target.shape != (r, r, 3) or target.dtype != np.uint8:
        raise UserError(f"projection target must be [{r}, {r}, 3] uint8, got {target.shape} {target.dtype}")


def initial_latents(model: LoadedModel, target_t: torch.Tensor, *, method: str, candidates: int, seed: int) -> torch.Tensor:
    """[K, nz] starts: ``OPT_POOL`` times K prior samples (opt: the best K are kept), or the encoder's guess with
    jittered copies (encoder, hybrid)."""
    card = model.card
    generator = torch.Generator().manual_seed(seed)
    if method == "opt":
        return sample_prior(card.prior, candidates * OPT_POOL, card.nz, generator).to(target_t.device)
    if model.E is None:
        raise UserError(f"model {card.name!r} has no encoder (E), which --method {method} needs; "
                        "use --method opt, which needs only the generator")
    with torch.no_grad():
        guess = model.E(target_t)  # [1, nz]
    jitter = torch.randn(candidates, card.nz, generator=generator).to(guess.device) * 0.1
    jitter[0] = 0
    z = guess + jitter
    return z.clamp(-1, 1) if card.prior == "uniform" else z


def iter_projection(
    model: LoadedModel,
    target: np.ndarray,
    *,
    method: str = DEFAULT_METHOD,
    steps: int = 200,
    seed: int = 0,
    candidates: int = 8,
    lr: float | None = None,
    feature_weight: float = 0.5,
    refine_share: float = OPT_REFINE_SHARE,
) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (steps done, current best image) after each step; return the final ``Projection``.

    opt: Adam (``lr``, default ``OPT_LR``) on the best ``candidates`` of ``OPT_POOL`` times as many prior draws,
    then L-BFGS on the best of them for ``refine_share`` of the steps. hybrid: Adam (``lr``, default 0.05) on the
    encoder's guess and jittered copies."""
    if method not in METHODS:
        raise UserError(f"unknown projection method {method!r} (choose from {', '.join(METHODS)})")
    _check(model, target)
    started = time.perf_counter()
    device = next(model.G.parameters()).device
    target_t = to_tensor(target, device)  # [1, 3, R, R]
    if model.card.generator.get("channels", 3) == 1:
        target_t = target_t.mean(1, keepdim=True)
    prior = model.card.prior
    z = initial_latents(model, target_t, method=method, candidates=candidates if method != "encoder" else 1, seed=seed)
    steps = 0 if method == "encoder" else steps
    G = inference_generator(model.G)  # the same function, cheaper per step

    with torch.no_grad():
        target_features = normalised_features(model, target_t)  # the target's, once for every step
        target_weights = pixel_weights(target_t)  # [1, 1, R, R]

    def losses(latent: torch.Tensor) -> torch.Tensor:
        return projection_loss(model, G(latent), target_t, feature_weight=feature_weight,
                               target_features=target_features, target_weights=target_weights)

    if method == "opt":
        # Keep the best ``candidates`` of the prior draws.
        with torch.no_grad():
            start_losses = torch.cat([losses(chunk) for chunk in z.split(candidates)])  # [K * OPT_POOL]
        z = z[start_losses.argsort()[:candidates]]  # [K, nz]
        lr = OPT_LR if lr is None else lr
        refine_steps = int(steps * refine_share)
    else:
        lr = 0.05 if lr is None else lr
        refine_steps = 0

    def previews(w: torch.Tensor, phase: Iterator[torch.Tensor], done: int) -> Iterator[tuple[int, np.ndarray | None]]:
        for step, loss in enumerate(phase, start=done + 1):
            best = int(loss.argmin())
            with torch.no_grad():
                yield step, None if step % 10 else to_uint8(G(to_latent(w[best : best + 1], prior)))[0]

    w = to_param(z, prior).detach().clone().requires_grad_(True)  # [K, nz]
    adam_steps = steps - refine_steps
    yield from previews(w, descend(w, lambda w: losses(to_latent(w, prior)), steps=adam_steps, lr=lr), 0)
    if refine_steps:
        # L-BFGS finishes the best start.
        with torch.no_grad():
            best = int(losses(to_latent(w, prior)).argmin())
        finish = w.detach()[best : best + 1].clone().requires_grad_(True)  # [1, nz]
        yield from previews(finish, refine(finish, lambda w: losses(to_latent(w, prior)), steps=refine_steps),
                            adam_steps)
        w = torch.cat([w.detach(), finish.detach()])  # [K + 1, nz]
    with torch.no_grad():
        final = to_latent(w.detach(), prior)  # [K, nz]; for a normal prior this is w itself
        loss = losses(final)
        best = int(loss.argmin())
        z_best = final[best : best + 1]
        image = G(z_best)  # [1, C, R, R]
        rgb = image.expand(-1, 3, -1, -1) if image.shape[1] == 1 else image
        pixel_rmse = float(torch.sqrt((((rgb + 1) * 127.5 - (to_tensor(target, device) + 1) * 127.5) ** 2).mean()))
        features = feature_distance(model, image, target_t, target_features=target_features)
    return Projection(
        method=method, z=z_best[0].cpu().numpy(), image=to_uint8(image)[0], steps=steps,
        seconds=time.perf_counter() - started, pixel_rmse=pixel_rmse,
        perceptual=None if features is None else float(features[0]),
    )


def _run(method: str, model: LoadedModel, target: np.ndarray, *, steps: int, seed: int,
         candidates: int, progress: Callable[[int, int], None] | None) -> Projection:
    iterator = iter_projection(model, target, method=method, steps=steps, seed=seed, candidates=candidates)
    while True:
        try:
            done, _ = next(iterator)
        except StopIteration as stop:
            return stop.value
        if progress is not None:
            progress(done, steps)


def project_optimize(model: LoadedModel, target: np.ndarray, *, steps: int = 200, seed: int = 0,
                     candidates: int = 8, progress: Callable[[int, int], None] | None = None) -> Projection:
    """Adam from the best K of 8K prior samples, then L-BFGS on the best of them; the best wins."""
    return _run("opt", model, target, steps=steps, seed=seed, candidates=candidates, progress=progress)


def project_encoder(model: LoadedModel, target: np.ndarray, *, steps: int = 0, seed: int = 0,
                    candidates: int = 1, progress: Callable[[int, int], None] | None = None) -> Projection:
    """One forward pass of the trained encoder (``steps`` is ignored)."""
    return _run("encoder", model, target, steps=0, seed=seed, candidates=1, progress=progress)


def project_hybrid(model: LoadedModel, target: np.ndarray, *, steps: int = 200, seed: int = 0,
                   candidates: int = 8, progress: Callable[[int, int], None] | None = None) -> Projection:
    """The encoder's guess (and jittered copies), refined by Adam: iGAN's best."""
    return _run("hybrid", model, target, steps=steps, seed=seed, candidates=candidates, progress=progress)


PROJECTORS = {"opt": project_optimize, "encoder": project_encoder, "hybrid": project_hybrid}


def project(model: LoadedModel, target: np.ndarray, *, method: str = DEFAULT_METHOD, **kwargs) -> Projection:
    if method not in PROJECTORS:
        raise UserError(f"unknown projection method {method!r} (choose from {', '.join(METHODS)})")
    return PROJECTORS[method](model, target, **kwargs)
