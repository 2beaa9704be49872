"""The detail generator's critic: a patch discriminator on display-size crops, and its hinge losses.

Trained for PSNR alone, a display network converges onto the mean of the plausible sharp answers, which is a
blur (docs/upsampler.md section 5). A critic that tells true 256^2 scenes from the network's output, patch by
patch, pays for plausible detail instead (as SRGAN / ESRGAN do, without their VGG term: no pretrained network
can be fetched here). Spectral norm keeps it Lipschitz; hinge losses as in the GAN recipe.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm


@dataclass(frozen=True, kw_only=True)
class CriticConfig:
    width: int = 32  # channels of the first layer; each stride-2 layer doubles them
    downsamplings: int = 3  # a logit per (2^d)^2-pixel patch, each seeing about 8 * 2^d pixels


class PatchCritic(nn.Module):
    """[B, 3, H, W] in [-1, 1] -> [B, 1, H / 2^d, W / 2^d] logits, one per overlapping patch."""

    def __init__(self, config: CriticConfig):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = []
        width_in, width = 3, config.width
        for _ in range(config.downsamplings):
            layers += [spectral_norm(nn.Conv2d(width_in, width, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            width_in, width = width, width * 2
        layers += [spectral_norm(nn.Conv2d(width_in, width_in, 3, padding=1)), nn.LeakyReLU(0.2),
                   spectral_norm(nn.Conv2d(width_in, 1, 3, padding=1))]
        self.net = nn.Sequential(*layers)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.net(images)


def critic_loss(critic: PatchCritic, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """Hinge loss of the critic: real patches above +1, the network's (detached) below -1."""
    return F.relu(1 - critic(real)).mean() + F.relu(1 + critic(fake.detach())).mean()


def generator_loss(critic: PatchCritic, fake: torch.Tensor) -> torch.Tensor:
    """What the display network pays for patches the critic finds fake."""
    return -critic(fake).mean()
