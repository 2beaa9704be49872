"""The settings that define a GAN run (all of them must match to resume it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from demo.engine.networks import INPUT_TONES, PRIORS, CriticConfig, GeneratorConfig


@dataclass(frozen=True, kw_only=True)
class GanConfig:
    """Everything that defines a GAN run (all of it must match to resume)."""

    resolution: int = 64
    nz: int = 100
    prior: str = "uniform"
    base: int = 32  # G width: 64x64 -> widths (8b, 4b, 2b, b)
    d_base: int = 32  # D width: (b, 2b, 4b, 8b)
    d_tone: str = "linear"  # how D sees images: "linear", or "sqrt" to feel dark detail (networks.tone_curve)
    recon_weight: float = 0.0  # > 0: an encoder E trains beside G, and G's loss adds this * L1(G(E(x)), x) on real x
    recon_tone: str = "linear"  # the tone curve that L1 is taken through: "sqrt" weighs dark detail as a sqrt-D sees it
    recon_dark_boost: float = 1.0  # > 1: the reconstruction term draws its own batch, dark scenes (nights) this x as often
    recon_blob_gain: float = 0.0  # > 0: the reconstruction L1 weighs bright blobs (a moon) by demo.engine.filters.bright_blob_weights
    lr_e: float = 5e-4
    batch: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    ema_decay: float = 0.999
    translate: float = 0.0  # DiffAugment translation, as a fraction of the size (0 = off)
    flip: bool = True
    warmup: int = 100  # steps of linear learning-rate warm-up whenever Adam starts fresh
    seed: int = 0

    def __post_init__(self) -> None:
        if self.prior not in PRIORS:
            raise ValueError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        if self.batch < 2:
            raise ValueError(f"batch must be >= 2, got {self.batch}")
        if self.recon_tone not in INPUT_TONES:
            raise ValueError(f"recon_tone must be one of {INPUT_TONES}, got {self.recon_tone!r}")
        if self.recon_weight < 0:
            raise ValueError(f"recon_weight must be >= 0, got {self.recon_weight}")
        if self.recon_dark_boost < 1:
            raise ValueError(f"recon_dark_boost must be >= 1, got {self.recon_dark_boost}")
        if self.recon_blob_gain < 0:
            raise ValueError(f"recon_blob_gain must be >= 0, got {self.recon_blob_gain}")
        if (self.recon_dark_boost > 1 or self.recon_blob_gain > 0) and self.recon_weight == 0:
            raise ValueError("recon_dark_boost and recon_blob_gain shape the reconstruction term, and recon_weight 0 has "
                             "no such term: give --recon-weight, or leave them at 1 and 0")

    def generator_config(self) -> GeneratorConfig:
        return GeneratorConfig.from_base(resolution=self.resolution, nz=self.nz, base=self.base)

    def critic_config(self) -> CriticConfig:
        return CriticConfig.from_base(resolution=self.resolution, base=self.d_base, spectral_norm=True,
                                      input_tone=self.d_tone)

    def encoder_config(self) -> CriticConfig:
        return CriticConfig.from_base(resolution=self.resolution, base=self.d_base, spectral_norm=False)


# The recipe flags of `train gan` / `train export` and the GanConfig fields each one sets.
RECIPE_FLAGS: dict[str, tuple[str, ...]] = {
    "nz": ("nz",), "prior": ("prior",), "base": ("base",), "d_base": ("d_base",), "d_tone": ("d_tone",),
    "recon_weight": ("recon_weight",), "recon_tone": ("recon_tone",),
    "recon_dark_boost": ("recon_dark_boost",), "recon_blob_gain": ("recon_blob_gain",), "batch": ("batch",), "lr": ("lr_g", "lr_d"),
    "lr_e": ("lr_e",),
    "ema": ("ema_decay",), "warmup": ("warmup",), "translate": ("translate",),
}


def recipe_changes(card_config: dict[str, Any], config: GanConfig) -> str:
    """The recipe settings in which ``config`` differs from a model card's ``training.config`` (a setting the card
    lacks was trained at its default), as "name old -> new, ...": what a leg continued from that file changed."""
    defaults, now = dataclasses.asdict(GanConfig()), dataclasses.asdict(config)
    names = [name for names in RECIPE_FLAGS.values() for name in names]
    return ", ".join(f"{name} {card_config.get(name, defaults[name])} -> {now[name]}" for name in names
                     if card_config.get(name, defaults[name]) != now[name])


def settle_config(flags: dict[str, Any], *, resolution: int, seed: int, run: dict[str, Any] | None = None,
                  model: dict[str, Any] | None = None) -> tuple[GanConfig, dict[str, str]]:
    """A run's settings, and where each one that is not the default came from.

    A flag that was given wins. A flag left out (None) takes the run's own setting (``run``: its checkpoint's
    config), else that of the model file a new run starts from (``model``: its card's training.config), else
    GanConfig's default. So `train export` and a resumed run need no flags repeated, and a run continued from
    the shipped file keeps the recipe that made it."""
    defaults = GanConfig()
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for flag, names in RECIPE_FLAGS.items():
        for name in names:
            for source, value in (("flag", flags.get(flag)), ("run", (run or {}).get(name)),
                                  ("model", (model or {}).get(name))):
                if value is not None:
                    values[name] = value
                    if value != getattr(defaults, name):
                        sources[name] = source
                    break
    return GanConfig(resolution=resolution, seed=seed, **values), sources
