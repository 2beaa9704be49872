"""Resumable encoder training: E(x) -> z for a trained generator, so projection starts near the answer.

Each step draws z from the prior, renders x = G(z) with the frozen generator and trains E on
``z_weight * ||E(x) - z||^2 + pixel_weight * ||G(E(x)) - x||^2`` (iGAN's encoder objective:
the latent term alone ignores directions G barely uses, the pixel term alone is slow to start).
With ``real_weight > 0`` a pixel term on real data images is added, so E also sees images G cannot
make exactly. Quality is measured as the pixel RMSE (0..255) of G(E(x)) against x, on fresh samples
of G and on procedural images from seeds the GAN never trained on.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from demo.engine.networks import CriticConfig, Encoder, Generator
from demo.train.common import (
    check_same_config,
    load_checkpoint,
    rng_state,
    sample_prior,
    set_rng_state,
    to_model_range,
)
from demo.train.heldout import heldout_images
from demo.train.loop import Workers, rank_seed, restore_rank_generator, share_from_main, train_loop, wrap_for_training


@dataclass(frozen=True, kw_only=True)
class EncoderConfig:
    base: int = 32
    batch: int = 64
    lr: float = 5e-4
    z_weight: float = 1.0
    pixel_weight: float = 1.0
    real_weight: float = 0.0
    seed: int = 0


def generator_fingerprint(G: Generator) -> float:
    """A number that changes whenever G's weights do (an encoder only fits the G it was trained with)."""
    with torch.no_grad():
        return round(float(sum(p.double().abs().sum() for p in G.state_dict().values() if p.is_floating_point())), 6)


@torch.no_grad()
def reconstruction_rmse(G: Generator, E: Encoder, x: torch.Tensor, *, chunk: int = 250) -> float:
    """Pixel RMSE in 0..255 of G(E(x)) vs x, for x float [-1, 1] [N, 3, R, R] (G and E in eval mode)."""
    device = next(G.parameters()).device
    total, count = 0.0, 0
    for start in range(0, x.shape[0], chunk):
        part = x[start : start + chunk].to(device)  # [C, 3, R, R]
        total += float(F.mse_loss(G(E(part)), part, reduction="sum"))
        count += part.numel()
    return (total / count) ** 0.5 * 127.5


@torch.no_grad()
def sample_rmse(G: Generator, E: Encoder, *, prior: str, count: int = 500, seed: int = 99) -> float:
    """reconstruction_rmse on ``count`` fresh samples of G."""
    z = sample_prior(count, G.config.nz, prior=prior, generator=torch.Generator().manual_seed(seed))
    return reconstruction_rmse(G, E, G(z.to(next(G.parameters()).device)))


def encoder_metrics(G: Generator, E: Encoder, *, prior: str) -> dict[str, Any]:
    """The card's encoder figures: RMSE on G's samples and on procedural images from held-out seeds."""
    unseen = to_model_range(heldout_images(500, resolution=G.config.resolution))
    return {
        "encoder_rmse_samples": round(sample_rmse(G, E, prior=prior), 2),
        "encoder_rmse_unseen_real": round(reconstruction_rmse(G, E, unseen), 2),
        "encoder_metric_notes": ("pixel RMSE (0..255) of G(E(x)) vs x: on 500 fresh samples of G, and on 500 "
                                 "procedural images from held-out seeds"),
    }


class EncoderTrainer:
    """Owns E, its optimizer and RNG; G is frozen in eval mode."""

    kind = "encoder"
    log_columns = ("loss", "z_mse", "pixel_mse")

    def __init__(self, config: EncoderConfig, G: Generator, *, prior: str, images: torch.Tensor | None = None,
                 rank: int = 0):
        if config.real_weight > 0 and images is None:
            raise ValueError("real_weight > 0 needs real images")
        self.config = config
        self.G = G.eval().requires_grad_(False)
        self.device = next(G.parameters()).device
        self.prior = prior
        self.images = images  # uint8 [N, 3, R, R] on the CPU, or None
        self.rank = rank
        critic = CriticConfig.from_base(resolution=G.config.resolution, base=config.base, channels=G.config.channels,
                                        spectral_norm=False)
        with torch.random.fork_rng(devices=[]):  # Seeded initial weights, the caller's global RNG left alone.
            torch.manual_seed(config.seed)
            self.E = Encoder(critic, nz=G.config.nz, prior=prior)
        self.E.to(self.device)
        self.E_step = self.E  # what the steps call: a DistributedDataParallel wrapper under torchrun
        self.opt = torch.optim.Adam(self.E.parameters(), lr=config.lr, betas=(0.9, 0.999))
        self.generator = torch.Generator().manual_seed(rank_seed(config.seed, rank))
        self.step = 0
        self.seconds = 0.0
        self.history: list[list[float]] = []  # [step, loss, z_mse, pixel_mse]

    def distribute(self, workers: Workers) -> None:
        """Average E's gradients across the ranks of a distributed run (DistributedDataParallel)."""
        self.E_step = wrap_for_training(self.E, workers)

    def train_step(self) -> dict[str, float]:
        cfg = self.config
        start = time.perf_counter()
        self.E.train()
        z = sample_prior(cfg.batch, self.G.config.nz, prior=self.prior, generator=self.generator).to(self.device)  # [B, nz]
        with torch.no_grad():
            x = self.G(z)  # [B, 3, R, R]
        inputs = x
        if cfg.real_weight > 0:
            index = torch.randint(0, self.images.shape[0], (cfg.batch,), generator=self.generator)
            inputs = torch.cat([x, to_model_range(self.images[index]).to(self.device)])  # [2B, 3, R, R]: samples, then data
        z_hat = self.E_step(inputs)  # one forward for both parts: [B or 2B, nz]
        recon = self.G(z_hat)  # [B or 2B, 3, R, R]
        z_mse = F.mse_loss(z_hat[: cfg.batch], z)
        pixel_mse = F.mse_loss(recon[: cfg.batch], x)
        loss = cfg.z_weight * z_mse + cfg.pixel_weight * pixel_mse
        if cfg.real_weight > 0:
            loss = loss + cfg.real_weight * F.mse_loss(recon[cfg.batch :], inputs[cfg.batch :])
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        self.step += 1
        self.seconds += time.perf_counter() - start
        row = [float(self.step), loss.item(), z_mse.item(), pixel_mse.item()]
        self.history.append(row)
        return dict(zip(("step", "loss", "z_mse", "pixel_mse"), row))

    def postfix(self, row: dict[str, float]) -> dict[str, str]:
        rmse = row["pixel_mse"] ** 0.5 * 127.5
        return {"loss": f"{row['loss']:.4f}", "z": f"{row['z_mse']:.4f}", "rmse": f"{rmse:.1f}"}

    def trained_weights(self) -> list[torch.Tensor]:
        """What every rank must hold identically: E's parameters."""
        return list(self.E.parameters())

    def sample_sheet(self) -> None:
        return None

    def reconstruction_rmse(self, x: torch.Tensor, *, chunk: int = 250) -> float:
        """Pixel RMSE in 0..255 of G(E(x)) vs x, for x float [-1, 1] [N, 3, R, R]."""
        self.E.eval()
        return reconstruction_rmse(self.G, self.E, x, chunk=chunk)

    def sample_rmse(self, count: int = 500, seed: int = 99) -> float:
        self.E.eval()
        return sample_rmse(self.G, self.E, prior=self.prior, count=count, seed=seed)

    def state_dict(self) -> dict[str, Any]:
        return {
            "kind": "encoder",
            "config": {**dataclasses.asdict(self.config), "generator_fingerprint": generator_fingerprint(self.G)},
            "step": self.step,
            "seconds": self.seconds,
            "E": self.E.state_dict(),
            "opt": self.opt.state_dict(),
            "rng": rng_state(self.generator),
            "history": torch.tensor(self.history, dtype=torch.float64).reshape(-1, 4),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.E.load_state_dict(state["E"])
        self.opt.load_state_dict(state["opt"])
        set_rng_state(self.generator, state["rng"])
        restore_rank_generator(self.generator, state, rank=self.rank, seed=self.config.seed)
        self.step = int(state["step"])
        self.seconds = float(state["seconds"])
        self.history = state["history"].tolist()


def open_encoder_run(run_dir: Path, config: EncoderConfig, G: Generator, *, prior: str,
                     images: torch.Tensor | None = None, workers: Workers = Workers()) -> EncoderTrainer:
    """A trainer for run_dir: resumed when it holds a checkpoint for the same G and settings
    (in a distributed run rank 0 reads it and hands it to the others)."""
    trainer = EncoderTrainer(config, G, prior=prior, images=images, rank=workers.rank)
    state = share_from_main(load_checkpoint(run_dir) if workers.is_main else None, workers)
    if state is not None:
        wanted = {**dataclasses.asdict(config), "generator_fingerprint": generator_fingerprint(G)}
        check_same_config(run_dir, state["config"], wanted, ignore=())
        trainer.load_state_dict(state)
    return trainer


def train_encoder(trainer: EncoderTrainer, run_dir: Path, *, steps: int, checkpoint_every: int = 250,
                  progress: bool = True, workers: Workers = Workers(), minutes: float | None = None) -> EncoderTrainer:
    """Train until ``trainer.step == steps`` (or for ``minutes``), checkpointing into run_dir (rank 0; Ctrl-C saves too)."""
    return train_loop(trainer, run_dir, steps=steps, workers=workers, sample_every=0,
                      checkpoint_every=checkpoint_every, progress=progress, minutes=minutes)


def warm_start(trainer: EncoderTrainer, model: str | Path) -> None:
    """Start E from the encoder stored in another model file (e.g. one trained for an earlier G)."""
    from demo.engine.checkpoint import load_model
    from demo.errors import UserError

    source = load_model(model)
    if source.E is None:
        raise UserError(f"{source.path}: --init needs a model file that holds an encoder")
    try:
        trainer.E.load_state_dict(source.E.state_dict())
    except RuntimeError:
        raise UserError(f"{source.path}: its encoder does not match this one (widths, nz or prior differ)") from None
    print(f"encoder starts from the one in {source.path}")


def run_encoder_command(args, *, device, workers: Workers = Workers()) -> Path | None:
    """``python -m demo train encoder``: train, measure, and store E in the model file (rank 0, which
    returns the file's path; other ranks return None)."""
    from demo.engine.checkpoint import card_for, load_model
    from demo.errors import UserError
    from demo.train.common import load_images
    from demo.train.shipping.model_file import load_raw_generator, save_trained_model

    loaded = load_model(args.model, device=device)
    if loaded.card.stand_in:
        raise UserError(f"{loaded.path}: is a random stand-in; train and export a GAN first")
    G = loaded.G
    images = None
    if args.real_weight > 0:
        images = load_images(args.data, resolution=G.config.resolution)
    sized = {"base": args.d_base, "batch": args.batch}
    config = EncoderConfig(real_weight=args.real_weight, seed=args.seed, **{k: v for k, v in sized.items() if v is not None})
    run_dir = Path(args.out or f"runs/{loaded.path.stem}_encoder")
    trainer = open_encoder_run(run_dir, config, G, prior=loaded.card.prior, images=images, workers=workers)
    steps = args.steps if args.steps is not None else 3000
    if trainer.step:
        print(f"resuming {run_dir} at step {trainer.step}/{steps}")
    elif args.init:
        warm_start(trainer, args.init)
    trainer.distribute(workers)
    train_encoder(trainer, run_dir, steps=steps, progress=not args.no_progress, workers=workers, minutes=args.minutes)
    if not workers.is_main:
        return None

    metrics = encoder_metrics(G, trainer.E.eval(), prior=loaded.card.prior)
    card = loaded.card
    seen = trainer.step * config.batch
    training = {**card.training, "encoder": {
        "steps": trainer.step, "batch": config.batch, "img_per_s": round(seen / max(trainer.seconds, 1e-9), 1),
        "wall_seconds": round(trainer.seconds, 1), "torch_threads": args.threads, "device": trainer.device.type,
        "world_size": workers.world_size,
        "loss": f"{config.z_weight}*||E(G(z))-z||^2 + {config.pixel_weight}*||G(E(G(z)))-G(z)||^2"
                + (f" + {config.real_weight}*||G(E(x))-x||^2 on data" if config.real_weight else ""),
        "lr": config.lr,
        **({"init": str(args.init)} if args.init else {}),
    }}
    new_card = card_for(
        name=card.name, G=G, D=loaded.D, E=trainer.E, prior=card.prior, dataset=card.dataset, licence=card.licence,
        training=training, metrics={**card.metrics, **metrics}, notes=card.notes,
    )
    raw_G = load_raw_generator(loaded.path, G.config)
    cpu = lambda net: None if net is None else net.cpu().eval()
    saved = save_trained_model(loaded.path, new_card, G=cpu(G), D=cpu(loaded.D), E=cpu(trainer.E), raw_G=raw_G)
    print(f"encoder: RMSE {metrics['encoder_rmse_samples']} on G's samples, {metrics['encoder_rmse_unseen_real']} on "
          f"unseen procedural images (0..255); stored E in {saved}")
    return saved
