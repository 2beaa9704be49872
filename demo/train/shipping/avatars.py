"""Give an exported avatars model a card about its own domain: dataset, licence and attribution, unseen-data figures.

``train export`` and ``train encoder`` were written for landscape64. They write landscape provenance
(the dataset description and the CC0 licence text), and they measure their "unseen real" figures on
procedural landscapes. This step replaces those parts for a model trained on ``python -m demo data avatars``:

- the dataset description, licence and per-style attribution come from the data set's meta.json;
- the figures against unseen real images (``fd8_*``, ``nn_to_train_*``, ``encoder_rmse_unseen_real``) are
  measured again, with 1000 avatars from held-out seeds (split seed 1) as the unseen real images.

Steps, img/s, wall time and the sample-based metrics are kept as they are. ``train export``,
``train calibrate`` and ``train encoder`` call it themselves when ``--data`` is an avatars data set; on
its own it finishes the card of a file made otherwise:

    python -m demo.train.shipping.avatars --model avatars64 --data data/avatars64
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import torch

from demo.data.avatars import AvatarConfig, ensure_renderer, render_avatars
from demo.engine.checkpoint import LoadedModel, card_for, load_model
from demo.errors import UserError
from demo.train.common import load_images, sample_prior, to_model_range
from demo.train.heldout import HELDOUT_SPLIT_SEED
from demo.train.shipping.export import read_data_meta
from demo.train.gan.metrics import frechet_distance_lowres, nearest_neighbour_rms
from demo.train.shipping.model_file import load_raw_generator, save_trained_model

HELDOUT_COUNT = 1000  # as many as export's gan_metrics draws samples
LANDSCAPE_HELDOUT_FIGURES = ("fd8_samples_vs_heldout", "fd8_heldout")  # export's, measured on landscapes


def heldout_avatars(count: int, *, meta: dict[str, Any]) -> torch.Tensor:
    """Avatars from seeds the training set never used, uint8 [count, 3, R, R]."""
    ensure_renderer()
    seeds = [HELDOUT_SPLIT_SEED * 10_000_000 + i for i in range(count)]
    config = AvatarConfig(size=meta["size"], supersample=meta["supersample"])
    return torch.from_numpy(render_avatars(seeds, config=config, workers=2)).permute(0, 3, 1, 2).contiguous()


@torch.no_grad()
def unseen_metrics(loaded: LoadedModel, images: torch.Tensor, unseen: torch.Tensor, *, reference: int = 10000,
                   seed: int = 7) -> dict[str, Any]:
    """The figures that compare G's samples with unseen real images, measured on held-out avatars.

    Samples, data and reference images are drawn here, so the sample and unseen figures of each pair
    share one reference set.
    """
    count = unseen.shape[0]
    generator = torch.Generator().manual_seed(seed)
    samples = loaded.G(sample_prior(count, loaded.G.config.nz, prior=loaded.card.prior, generator=generator))
    pick = torch.randperm(images.shape[0], generator=generator)
    data = images[pick[:count]]  # [count, 3, R, R]
    train_ref = images[pick[count : count + reference]]
    metrics: dict[str, Any] = {
        "fd8_samples_vs_data": round(frechet_distance_lowres(samples, data), 3),
        "fd8_unseen_real_vs_data": round(frechet_distance_lowres(unseen, data), 3),
        "nn_to_train_samples_rms": round(nearest_neighbour_rms(samples, train_ref), 2),
        "nn_to_train_unseen_real_rms": round(nearest_neighbour_rms(unseen, train_ref), 2),
        "metric_notes": (f"RMS pixel differences in 0..255 units; diversity: samples vs training images (export); "
                         f"fd8 and nn: {count} samples, {count} training images, {count} DiceBear avatars from "
                         f"held-out seeds (split seed 1) = unseen_real; nearest neighbours searched in "
                         f"{train_ref.shape[0]} training images; fd8 = Frechet distance of 8x8 area-downsampled "
                         "colour images in 0..1 (a network-free FID; unseen_real is its noise floor)"),
    }
    if loaded.E is not None:
        x = to_model_range(unseen)  # [count, 3, R, R]
        error = sum(float((loaded.G(loaded.E(part)) - part).pow(2).sum()) for part in x.split(250))
        metrics["encoder_rmse_unseen_real"] = round((error / x.numel()) ** 0.5 * 127.5, 2)
        metrics["encoder_metric_notes"] = ("pixel RMSE (0..255) of G(E(x)) vs x: on 500 fresh samples of G, and on "
                                           f"{count} DiceBear avatars from held-out seeds")
    return metrics


def describe(meta: dict[str, Any]) -> tuple[str, str]:
    """(dataset description, licence text with attribution) of an avatars data set."""
    styles = meta["styles"]
    dataset = (f"{meta['count']} DiceBear avatar portraits at {meta['size']}x{meta['size']} (demo/data/avatars.py, "
               f"seeds {meta['seeds']}), drawn at {meta['supersample']}x by resvg and area-downsampled, over solid "
               "backgrounds of random colour; styles (images): "
               + ", ".join(f"{s['name']} ({s['images']})" for s in styles))
    licences = sorted({s["licence"] for s in styles})
    licence = (f"CC-BY-4.0 weights and samples: trained on images derived from DiceBear styles under "
               f"{' / '.join(licences)}. Attribution: " + "; ".join(s["attribution"] for s in styles)
               + ". Changes: rendered to PNG, composited on solid colours, downsampled. Data set "
               "built by this project's MIT code (demo/data/avatars.py, tools/avatars).")
    return dataset, licence


def finish_card(model: str | Path, *, data: str | Path) -> Path:
    """Rewrite the model's card (and the card embedded in its .safetensors) for the avatars domain."""
    loaded = load_model(model)
    meta = read_data_meta(data)
    if meta.get("kind") != "avatars":
        raise UserError(f"{data}: meta.json is not an avatars data set (make one with: python -m demo data avatars)")
    path = Path(data)
    images = load_images(path / meta["file"] if path.is_dir() else path, resolution=loaded.card.resolution)
    metrics = unseen_metrics(loaded, images, heldout_avatars(HELDOUT_COUNT, meta=meta))
    dataset, licence = describe(meta)
    card = loaded.card
    notes = card.notes if "docs/avatars.md" in card.notes else f"{card.notes} Data and licences: docs/avatars.md."
    # Export's held-out FD8 compares with procedural landscapes: no figure for this domain.
    kept = {k: v for k, v in card.metrics.items() if not k.startswith(LANDSCAPE_HELDOUT_FIGURES)}
    new_card = card_for(name=card.name, G=loaded.G, D=loaded.D, E=loaded.E, prior=card.prior, dataset=dataset,
                        licence=licence, training=card.training, metrics={**kept, **metrics}, notes=notes)
    raw_G = load_raw_generator(loaded.path, loaded.G.config)
    return save_trained_model(loaded.path, new_card, G=loaded.G, D=loaded.D, E=loaded.E, raw_G=raw_G)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.train.shipping.avatars", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="avatars64", help="model name or .safetensors path (default: avatars64)")
    parser.add_argument("--data", default="data/avatars64", help="the avatars data set it was trained on")
    args = parser.parse_args(argv)
    torch.set_num_threads(2)
    try:
        saved = finish_card(args.model, data=args.data)
    except UserError as exc:
        print(f"error: {exc}")
        return 2
    print(f"rewrote the card of {saved} for the avatars domain ({saved.with_suffix('.json')})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
