"""The tiny training set-up shared by test_train_loop.py and test_train_model_file.py: a 16px GAN recipe
and its command-line flags (the 16px scenes are conftest's ``landscapes16`` fixtures)."""

from __future__ import annotations

from demo.train.gan.trainer import GanConfig

TINY = GanConfig(resolution=16, nz=16, base=8, d_base=8, batch=8, translate=0.125)
TINY_FLAGS = ["--base", "8", "--d-base", "8", "--batch", "8", "--nz", "16", "--no-progress", "--threads", "1",
              "--measure-count", "64", "--calibration-steps", "20"]
