"""The random-weight stand-in (``--model random``), clearly labelled, for use before a trained model exists.

Its weights come from a private ``torch.Generator``: building it neither seeds nor draws from torch's
global RNG, so it cannot change what other code's random numbers are.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from demo.engine.checkpoint.card import LoadedModel, card_for
from demo.engine.networks import Generator, GeneratorConfig

STAND_IN_NAME = "random"


def random_stand_in(*, resolution: int = 64, nz: int = 100, base: int = 32, seed: int = 0) -> LoadedModel:
    """A random-weight generator, the same for a seed, with batch norm calibrated on prior samples."""
    rng = torch.Generator().manual_seed(seed)
    with torch.device("meta"):
        G = Generator(GeneratorConfig.from_base(resolution=resolution, nz=nz, base=base))
    G = G.to_empty(device="cpu")
    _initialise(G, rng)
    # Calibrate batch-norm statistics on prior samples, so eval-mode images are not flat.
    for module in G.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None  # cumulative average
    with torch.no_grad():
        G.train()
        for _ in range(4):
            G(torch.rand(64, nz, generator=rng) * 2 - 1)  # [64, nz] uniform prior
    card = card_for(name="random-stand-in", G=G, prior="uniform", stand_in=True,
                    notes="RANDOM WEIGHTS: stands in for a trained model; images are meaningless.")
    return LoadedModel(card=card, G=G, D=None, E=None).to("cpu")


def _initialise(net: nn.Module, rng: torch.Generator) -> None:
    """PyTorch's default initialisation, in module order, drawn from ``rng`` instead of the global RNG."""
    with torch.no_grad():
        for module in net.modules():
            if isinstance(module, nn.modules.conv._ConvNd):
                nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=rng)
                if module.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(module.weight)
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
                    nn.init.uniform_(module.bias, -bound, bound, generator=rng)
            elif isinstance(module, nn.BatchNorm2d):
                module.reset_parameters()  # ones, zeros and fresh running statistics: no randomness
