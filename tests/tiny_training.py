"""The tiny training set-up shared by test_train_loop.py and test_train_model_file.py: a 16px GAN recipe,
its command-line flags and an exact comparison of two runs' states (the 16px scenes are conftest's
``landscapes16`` fixtures)."""

from __future__ import annotations

import torch

from demo.train.gan import GanConfig

TINY = GanConfig(resolution=16, nz=16, base=8, d_base=8, batch=8, translate=0.125)
TINY_FLAGS = ["--base", "8", "--d-base", "8", "--batch", "8", "--nz", "16", "--no-progress", "--threads", "1",
              "--measure-count", "64", "--calibration-steps", "20"]


def same_state(a: dict, b: dict) -> None:
    for net in ("G", "D", "G_ema"):
        for key, value in a[net].items():
            assert torch.equal(value, b[net][key]), f"{net}.{key}"
    for opt in ("opt_g", "opt_d"):
        for index, slot in a[opt]["state"].items():
            for name, value in slot.items():
                assert torch.equal(torch.as_tensor(value), torch.as_tensor(b[opt]["state"][index][name])), f"{opt}.{index}.{name}"
    assert torch.equal(a["rng"]["generator"], b["rng"]["generator"])


