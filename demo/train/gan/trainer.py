"""Resumable GAN training: DCGAN generator, spectral-norm critic, hinge loss, EMA generator.

Recipe (SNGAN "setting C" on a DCGAN generator): hinge loss; spectral norm on every D layer;
Adam(lr 2e-4, betas (0.5, 0.999)) for both nets, one D step per G step; the fakes of one G forward
serve both the D and the G step; real images are flipped left-right at random; optional
DiffAugment-style translation on D's inputs (real and fake alike). An exponential moving average of
G's weights is what gets sampled and exported; its BatchNorm statistics are re-estimated from
fresh samples (they cannot be averaged like weights).

A run lives in one folder: ``checkpoint.pt`` (nets, optimizers, EMA, step, RNG, wall time),
``samples/step_XXXXXXX.png`` (fixed latents) and ``log.csv`` (written by demo/train/loop.py, which
also runs the steps under torchrun). Training the same folder again resumes exactly where it stopped:
on CPU, a run resumed from a checkpoint is bit-identical to one that never stopped. A run with no
checkpoint can instead continue from a model file (demo/train/gan/run.py), so training spans machines
that share only the repository.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from typing import Any

import torch
import torch.nn.functional as F

from demo.engine.networks import Discriminator, Encoder, Generator
from demo.train.common import rng_state, sample_prior, set_rng_state, to_model_range
from demo.train.gan.config import GanConfig
from demo.train.gan.parts import (dark_boost_weights, dcgan_init, draw_index, recalibrate_batchnorm, reconstruction_loss,
                                  translate)
from demo.train.loop import Workers, rank_seed, restore_rank_generator, wrap_for_training
from demo.train.shipping.provenance import Provenance


class GanTrainer:
    """Owns G, D, the EMA generator, both optimizers and the RNG of one run (of one process of it)."""

    kind = "gan"
    log_columns = ("loss_d", "loss_g", "d_real", "d_fake")

    def __init__(self, config: GanConfig, images: torch.Tensor, *, device: torch.device | str = "cpu", rank: int = 0):
        if images.shape[1:] != (3, config.resolution, config.resolution):
            raise ValueError(f"images must be [N, 3, {config.resolution}, {config.resolution}], got {list(images.shape)}")
        self.config = config
        self.images = images  # uint8 [N, 3, R, R], on the CPU
        self.device = torch.device(device)
        self.rank = rank
        with torch.random.fork_rng(devices=[]):  # Seeded initial weights, the caller's global RNG left alone.
            torch.manual_seed(config.seed)
            self.G = Generator(config.generator_config())
            dcgan_init(self.G)
            self.D = Discriminator(config.critic_config())
            # The encoder of the reconstruction term: every real image must have a latent that G draws it from.
            self.E = Encoder(config.encoder_config(), nz=config.nz, prior=config.prior) if config.recon_weight > 0 else None
        self.G_ema = copy.deepcopy(self.G).requires_grad_(False)
        for net in (self.G, self.D, self.G_ema, self.E):
            if net is not None:
                net.to(self.device)
        # What the steps call: DistributedDataParallel wrappers under torchrun.
        self.G_step, self.D_step, self.E_step = self.G, self.D, self.E
        betas = (config.beta1, config.beta2)
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.lr_g, betas=betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr_d, betas=betas)
        self.opt_e = None if self.E is None else torch.optim.Adam(self.E.parameters(), lr=config.lr_e, betas=(0.9, 0.999))
        if self.E is not None:
            self.log_columns = (*GanTrainer.log_columns, "loss_recon")
        # The reconstruction term's own sampling weights; None: it reconstructs D's real batch.
        boosted = self.E is not None and config.recon_dark_boost > 1
        self.recon_weights = dark_boost_weights(images, boost=config.recon_dark_boost) if boosted else None
        self.generator = torch.Generator().manual_seed(rank_seed(config.seed, rank))
        self.step = 0
        self.images_seen = 0  # real images D saw, summed over ranks and sessions
        self.world_size = 1
        self.adam_start = 0  # the step at which Adam last started fresh (the warm-up counts from it)
        self.seconds = 0.0  # time spent in train_step, summed over sessions
        self.provenance = Provenance()  # what the run started from, for its card
        self.history: list[list[float]] = []  # [step, loss_d, loss_g, D(real), D(fake)]

    # One step -----------------------------------------------------------------------------------

    def real_batch(self, weights: torch.Tensor | None = None) -> torch.Tensor:
        """A batch of real images, drawn uniformly, or in proportion to ``weights`` [N]."""
        cfg = self.config
        index = draw_index(cfg.batch, size=self.images.shape[0], weights=weights, generator=self.generator)
        real = to_model_range(self.images[index])  # [B, 3, R, R]
        if cfg.flip:
            flip = torch.rand(cfg.batch, generator=self.generator) < 0.5
            real = torch.where(flip[:, None, None, None], real.flip(3), real)
        return real.to(self.device)

    def augment(self, x: torch.Tensor) -> torch.Tensor:
        if self.config.translate <= 0:
            return x
        return translate(x, ratio=self.config.translate, generator=self.generator)

    def warm_up_learning_rates(self) -> None:
        cfg = self.config
        scale = min(1.0, (self.step - self.adam_start + 1) / cfg.warmup) if cfg.warmup > 0 else 1.0
        for opt, lr in ((self.opt_g, cfg.lr_g), (self.opt_d, cfg.lr_d), (self.opt_e, cfg.lr_e)):
            for group in [] if opt is None else opt.param_groups:
                group["lr"] = lr * scale

    def train_step(self) -> dict[str, float]:
        cfg = self.config
        start = time.perf_counter()
        self.G.train()
        self.warm_up_learning_rates()
        real = self.real_batch()  # [B, 3, R, R]
        z = sample_prior(cfg.batch, cfg.nz, prior=cfg.prior, generator=self.generator).to(self.device)  # [B, nz]
        if self.E_step is None:
            fake = self.G_step(z)  # [B, 3, R, R]
        else:  # One G forward draws the fakes and the reconstructions of real images (one BatchNorm batch).
            recon_real = real if self.recon_weights is None else self.real_batch(self.recon_weights)  # [B, 3, R, R]
            drawn = self.G_step(torch.cat([z, self.E_step(recon_real)]))  # [2B, 3, R, R]
            fake, reconstructed = drawn[: cfg.batch], drawn[cfg.batch :]

        # Critic step: hinge loss on real vs (detached) fake, in one forward pass.
        d_both = self.D_step(self.augment(torch.cat([real, fake.detach()])))  # [2B]
        d_real, d_fake = d_both[: cfg.batch], d_both[cfg.batch :]  # [B] each
        loss_d = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        self.opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.opt_d.step()

        # Generator step on the same fakes, through the updated critic (whose weights need no gradient here).
        self.D.requires_grad_(False)
        loss_g = -self.D(self.augment(fake)).mean()
        loss_recon = torch.zeros(())
        if self.E_step is not None:
            loss_recon = reconstruction_loss(reconstructed, recon_real, tone=cfg.recon_tone, blob_gain=cfg.recon_blob_gain)
        self.opt_g.zero_grad(set_to_none=True)
        if self.opt_e is not None:
            self.opt_e.zero_grad(set_to_none=True)
        (loss_g + cfg.recon_weight * loss_recon).backward()
        self.opt_g.step()
        if self.opt_e is not None:
            self.opt_e.step()
        self.D.requires_grad_(True)
        self.update_ema()

        self.step += 1
        self.images_seen += cfg.batch * self.world_size
        self.seconds += time.perf_counter() - start
        row = [float(self.step), loss_d.item(), loss_g.item(), d_real.mean().item(), d_fake.mean().item()]
        self.history.append(row)
        return {**dict(zip(("step", "loss_d", "loss_g", "d_real", "d_fake"), row)), "loss_recon": loss_recon.item()}

    @torch.no_grad()
    def update_ema(self) -> None:
        # Warm up: early on the average follows G closely, then settles at ema_decay.
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        for p_ema, p in zip(self.G_ema.parameters(), self.G.parameters()):
            p_ema.lerp_(p, 1 - decay)

    def distribute(self, workers: Workers) -> None:
        """Average G's, D's (and E's) gradients across the ranks of a distributed run (DistributedDataParallel)."""
        self.G_step, self.D_step = wrap_for_training(self.G, workers), wrap_for_training(self.D, workers)
        self.E_step = None if self.E is None else wrap_for_training(self.E, workers)
        self.world_size = workers.world_size

    def postfix(self, row: dict[str, float]) -> dict[str, str]:
        img_s = self.config.batch * self.step / max(self.seconds, 1e-9)  # per process
        recon = {} if self.E is None else {"recon": f"{row['loss_recon']:.3f}"}
        return {"d": f"{row['loss_d']:.3f}", "g": f"{row['loss_g']:.3f}", **recon, "img_s": f"{img_s:.0f}"}

    def trained_weights(self) -> list[torch.Tensor]:
        """What every rank must hold identically: the parameters of G, D, the EMA G (and E)."""
        return [*self.G.parameters(), *self.D.parameters(), *self.G_ema.parameters(),
                *([] if self.E is None else self.E.parameters())]

    def sample_sheet(self) -> torch.Tensor:
        return self.fixed_samples()

    # Sampling -----------------------------------------------------------------------------------

    def ready_ema(self, *, batches: int = 8) -> Generator:
        """The EMA generator with fresh BatchNorm statistics, in eval mode: from batches*256 prior samples, and
        with a reconstruction term as many E(x) of real images beside them, the mix G was trained on."""
        beside = None if self.E is None else self.encoded_reals
        return recalibrate_batchnorm(self.G_ema, prior=self.config.prior, seed=self.config.seed + 1, batches=batches,
                                     beside=beside)

    @torch.no_grad()
    def encoded_reals(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """E(x) [count, nz] of real images drawn as the reconstruction term draws them (dark boost included),
        with ``generator``, so the training RNG is left alone."""
        index = draw_index(count, size=self.images.shape[0], weights=self.recon_weights, generator=generator)
        return self.E(to_model_range(self.images[index]).to(self.device))

    @torch.no_grad()
    def fixed_samples(self, count: int = 64) -> torch.Tensor:
        z = sample_prior(count, self.config.nz, prior=self.config.prior, generator=torch.Generator().manual_seed(1234))
        return self.ready_ema(batches=4)(z.to(self.device)).cpu()  # [count, 3, R, R]

    # Checkpoints --------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        return {
            "kind": "gan",
            "config": dataclasses.asdict(self.config),
            "step": self.step,
            "seconds": self.seconds,
            "G": self.G.state_dict(),
            "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict(),
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            **({} if self.E is None else {"E": self.E.state_dict(), "opt_e": self.opt_e.state_dict()}),
            "rng": rng_state(self.generator),
            "adam_start": self.adam_start,
            "images_seen": self.images_seen,
            **self.provenance.state_dict(),
            "history": torch.tensor(self.history, dtype=torch.float64).reshape(-1, 5),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        self.G_ema.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if self.E is not None:
            self.E.load_state_dict(state["E"])
            self.opt_e.load_state_dict(state["opt_e"])
        set_rng_state(self.generator, state["rng"])
        restore_rank_generator(self.generator, state, rank=self.rank, seed=self.config.seed)
        self.step = int(state["step"])
        self.adam_start = int(state.get("adam_start", 0))
        self.images_seen = int(state.get("images_seen", self.step * self.config.batch))
        self.provenance = Provenance.from_state(state)
        self.seconds = float(state["seconds"])
        self.history = state["history"].tolist()
