"""Open a GAN run and train it: resume its checkpoint, or continue from a shipped model file, or start fresh.

A run with no checkpoint can continue from a model file (``models/NAME.safetensors``: raw G, EMA G, D, E and
the step count; Adam starts fresh, with a learning-rate warm-up), so training spans machines that share
only the repository. The file's card history comes along (demo/train/shipping/provenance.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from demo.engine.checkpoint import MODELS_DIR
from demo.errors import UserError
from demo.train.common import check_same_config, load_checkpoint
from demo.train.gan.trainer import GanTrainer
from demo.train.gan.config import GanConfig, recipe_changes
from demo.train.loop import Workers, share_from_main, train_loop
from demo.train.shipping.provenance import Provenance


def open_run(run_dir: Path, config: GanConfig, images: torch.Tensor, *, init: str | Path | None = None,
             device: torch.device | str = "cpu", workers: Workers = Workers()) -> GanTrainer:
    """A trainer for run_dir: resumed from its checkpoint when there is one, else started from the model
    file ``init`` when given (how a run continues on a machine that has only models/), else fresh.
    In a distributed run rank 0 reads the checkpoint and hands it to the others."""
    trainer = GanTrainer(config, images, device=device, rank=workers.rank)
    state = share_from_main(load_checkpoint(run_dir) if workers.is_main else None, workers)
    if state is not None:
        # A setting a run saved before it existed was trained at its default.
        check_same_config(run_dir, state["config"], dataclasses.asdict(config), ignore=(),
                          defaults=dataclasses.asdict(GanConfig()))
        trainer.load_state_dict(state)
    elif init is not None:
        continue_from_model(trainer, init)
    trainer.distribute(workers)
    return trainer


def continue_from_model(trainer: GanTrainer, init: str | Path) -> None:
    """Start ``trainer`` from a shipped model file: its raw G (or its EMA G), its D (and E, when this run
    trains one and the file has one), its step count and card history; a fresh Adam."""
    from demo.engine.checkpoint import load_model
    from demo.train.shipping.model_file import load_raw_generator_state

    loaded = load_model(init)
    if loaded.D is None:
        raise UserError(f"{loaded.path}: holds no discriminator, so training cannot continue from it (use --init none)")
    if loaded.D.config.input_tone != trainer.config.d_tone:
        raise UserError(f"{loaded.path}: its D was trained with --d-tone {loaded.D.config.input_tone}; continue it "
                        "with the same (its card's training.config has every setting it was trained with)")
    G_raw = load_raw_generator_state(loaded.path)
    try:
        trainer.G_ema.load_state_dict(loaded.G.state_dict())
        trainer.G.load_state_dict(G_raw if G_raw is not None else loaded.G.state_dict())
        trainer.D.load_state_dict(loaded.D.state_dict())
        if trainer.E is not None and loaded.E is not None:
            trainer.E.load_state_dict(loaded.E.state_dict())
    except RuntimeError:
        raise UserError(f"{loaded.path}: its networks do not match this run's settings (--base, --d-base, --nz, "
                        "resolution); use the model's settings or --init none") from None
    card_training = loaded.card.training
    trainer.step = trainer.adam_start = int(card_training.get("steps", 0))
    trainer.images_seen = int(card_training.get("images_seen", trainer.step * trainer.config.batch))
    trainer.seconds = float(card_training.get("wall_seconds", 0.0))
    path = loaded.path
    shown = path.relative_to(MODELS_DIR.parent) if path.is_relative_to(MODELS_DIR.parent) else path
    encoder = "" if trainer.E is None else ("its E" if loaded.E is not None else "a new E")
    trainer.provenance = Provenance.from_card(shown=str(shown), step=trainer.step, card_training=card_training,
                                              card_dataset=loaded.card.dataset, raw_g=G_raw is not None,
                                              encoder=encoder,
                                              changes=recipe_changes(card_training.get("config", {}), trainer.config))


def train_gan(trainer: GanTrainer, run_dir: Path, *, steps: int, sample_every: int = 500, checkpoint_every: int = 250,
              progress: bool = True, workers: Workers = Workers(), minutes: float | None = None) -> GanTrainer:
    """Train until ``trainer.step == steps`` (or for ``minutes``), writing checkpoints, sample sheets and
    log.csv into run_dir (rank 0)."""
    return train_loop(trainer, run_dir, steps=steps, workers=workers, sample_every=sample_every,
                      checkpoint_every=checkpoint_every, progress=progress, minutes=minutes)
