"""Start previews: the first image the engine shows for each of a card's start seeds, stored beside the card.

The app's window opens in about a second, but its worker needs two more to import torch and load the
model. The window shows the start preview meanwhile (``demo.app.loop.start_preview``): the very image the
engine's first result will show, rendered here by the engine itself (a fresh start with app seed i
begins at the card's ``start_seeds[i]``, and with no strokes the shown candidate is slot 0, the same
for any K). The strip is ``NAME_starts.png`` (uint8, one R x R image per start seed, top to bottom),
named by the card's ``start_previews``.

    python -m demo.engine.checkpoint.start_seeds landscape64 --previews-only
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from demo.engine.checkpoint.safetensors_io import update_card
from demo.errors import UserError
from demo.safe_files import replacing


def render_start_previews(model_path: Path, *, count: int) -> np.ndarray:
    """uint8 [count, R, R, 3]: the engine's first shown image for app seeds 0..count-1."""
    from demo.engine.api import EditRequest
    from demo.engine.engine import Engine

    engine = Engine()
    images = []
    for seed in range(count):
        engine.submit(EditRequest(model=str(model_path), device="cpu", seed=seed, steps=0, stamp=seed + 1))
        result = engine.run()
        if result is None or result.error is not None:
            raise UserError(f"{model_path}: the engine could not start seed {seed} ({result and result.error})")
        images.append(result.image)
    return np.stack(images)


def write_start_previews(model_path: str | Path) -> Path:
    """Render the previews of every start seed of the model's card, write the strip and name it in the card."""
    from demo.engine.checkpoint.lookup import load_model

    model = load_model(model_path)
    if model.path is None or model.path.suffix != ".safetensors" or not model.card.start_seeds:
        raise UserError(f"{model_path}: start previews need a .safetensors model whose card has start_seeds")
    images = render_start_previews(model.path, count=len(model.card.start_seeds))  # [n, R, R, 3]
    strip = model.path.with_name(f"{model.path.stem}_starts.png")
    with replacing(strip, suffix=".png") as temp:
        if not cv2.imwrite(temp, cv2.cvtColor(images.reshape(-1, *images.shape[2:]), cv2.COLOR_RGB2BGR)):
            raise UserError(f"{strip}: could not write the start previews")
    update_card(model.path.with_suffix(".json"), start_previews=strip.name)
    return strip
