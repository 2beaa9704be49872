"""Device choice shared by every command: ``--device auto|cpu|cuda|mps``."""

from __future__ import annotations

import torch

from demo.errors import UserError

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def pick_device(name: str = "auto") -> torch.device:
    """Resolve a device name; ``auto`` prefers cuda, then mps, then cpu."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available on this machine (use --device cpu or auto)")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UserError("--device mps: Apple MPS is not available on this machine (use --device cpu or auto)")
    if name not in DEVICE_CHOICES:
        raise UserError(f"--device {name}: expected one of {', '.join(DEVICE_CHOICES)}")
    return torch.device(name)
