"""Curating a model card's start seeds: starts worth looking at, so that no visitor starts on a black image.

Each seed draws the app's first batch of K candidates (``sample_prior`` with a generator seeded by it,
as the solver's reset does; the first K rows are the same for any larger K). Each seed's batch is
scored by brightness and colourfulness, the best ``keep`` seeds are kept, best first, and written into
the card's ``start_seeds``; ``start_seed_for`` then hands them out in turn.

    python -m demo.engine.checkpoint.start_seeds landscape64 --write
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import torch

from demo.engine.checkpoint.card import LoadedModel, parse_start_seeds
from demo.engine.checkpoint.safetensors_io import update_card
from demo.engine.checkpoint.start_previews import write_start_previews
from demo.engine.latent import sample_prior
from demo.errors import UserError


@dataclass(frozen=True, kw_only=True)
class SeedScore:
    seed: int
    score: float  # higher is better: mean + darkest brightness (0..1 each) + mean colourfulness / 100
    mean_brightness: float  # 0..255
    darkest_brightness: float  # 0..255, of the darkest candidate
    colourfulness: float  # Hasler and Suesstrunk's measure, 0..255 units, mean over the candidates


def image_scores(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """[B, C, R, R] in [-1, 1] -> (brightness [B], colourfulness [B]), both in 0..255 units."""
    rgb = (images.expand(-1, 3, -1, -1) + 1) * 127.5  # [B, 3, R, R]
    red, green, blue = rgb.unbind(1)  # [B, R, R] each
    brightness = (0.299 * red + 0.587 * green + 0.114 * blue).mean((1, 2))
    rg, yb = red - green, 0.5 * (red + green) - blue
    spread = torch.sqrt(rg.var((1, 2), unbiased=False) + yb.var((1, 2), unbiased=False))
    offset = torch.sqrt(rg.mean((1, 2)) ** 2 + yb.mean((1, 2)) ** 2)
    return brightness, spread + 0.3 * offset


def rank_start_seeds(model: LoadedModel, *, seeds: int = 256, candidates: int = 8, batch: int = 256,
                     progress=None) -> list[SeedScore]:
    """Score seeds 0..seeds-1 by their first ``candidates`` starts; best first."""
    card = model.card
    device = next(model.G.parameters()).device
    latents = torch.cat([sample_prior(card.prior, candidates, card.nz, torch.Generator().manual_seed(seed))
                         for seed in range(seeds)])  # [seeds * K, nz]
    brightness, colourfulness = [], []
    with torch.no_grad():
        for start in range(0, len(latents), batch):
            shown, colour = image_scores(model.G(latents[start : start + batch].to(device)).cpu())
            brightness.append(shown)
            colourfulness.append(colour)
            if progress is not None:
                progress(min(len(latents), start + batch) // candidates)
    brightness = torch.cat(brightness).reshape(seeds, candidates)  # [S, K]
    colourfulness = torch.cat(colourfulness).reshape(seeds, candidates)  # [S, K]
    scores = [
        SeedScore(seed=seed, mean_brightness=float(brightness[seed].mean()),
                  darkest_brightness=float(brightness[seed].min()), colourfulness=float(colourfulness[seed].mean()),
                  score=float(brightness[seed].mean() / 255 + brightness[seed].min() / 255 + colourfulness[seed].mean() / 100))
        for seed in range(seeds)
    ]
    return sorted(scores, key=lambda s: (-s.score, s.seed))


def write_start_seeds(card_path: str | Path, seeds: list[int]) -> Path:
    """Set ``start_seeds`` in a card's JSON, leaving every other field as it is (atomic replace)."""
    parse_start_seeds(seeds, source=str(card_path))
    return update_card(card_path, start_seeds=[int(s) for s in seeds])


DESCRIPTION = """\
Rank seeds by how their first K starts look (brightness, darkest candidate, colourfulness), print the
best, and with --write store them as the model card's start_seeds, which the app starts from (and
refresh the start previews, the first image of each start, which the window shows while the engine loads).

examples:
  python -m demo.engine.checkpoint.start_seeds landscape64                 rank and print, change nothing
  python -m demo.engine.checkpoint.start_seeds landscape64 --write         keep the best 16 in models/landscape64.json
  python -m demo.engine.checkpoint.start_seeds avatars64 --seeds 512 --keep 32 --write
  python -m demo.engine.checkpoint.start_seeds landscape64 --previews-only   redraw NAME_starts.png only
"""


def main(argv: list[str] | None = None) -> int:
    from tqdm import tqdm

    from demo.engine.checkpoint.lookup import load_model

    parser = argparse.ArgumentParser(prog="python -m demo.engine.checkpoint.start_seeds", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="model name in models/ or a .safetensors path (its .json card is written)")
    parser.add_argument("--seeds", type=int, default=256, help="rank seeds 0..N-1 (default: 256)")
    parser.add_argument("--candidates", type=int, default=8, help="starts per seed, as the app's K (default: 8, CPU)")
    parser.add_argument("--keep", type=int, default=16, help="how many of the best seeds to keep (default: 16)")
    parser.add_argument("--write", action="store_true", help="write them into the model card's start_seeds")
    parser.add_argument("--previews-only", action="store_true",
                        help="only redraw the start previews of the card's current start seeds")
    args = parser.parse_args(argv)
    try:
        if args.previews_only:
            torch.set_num_threads(1)
            print(f"wrote {write_start_previews(args.model)}")
            return 0
        if not 1 <= args.keep <= args.seeds or args.candidates < 1:
            raise UserError(f"need 1 <= --keep ({args.keep}) <= --seeds ({args.seeds}) and --candidates >= 1")
        torch.set_num_threads(1)
        model = load_model(args.model)
        if model.path is None or model.path.suffix != ".safetensors":
            raise UserError(f"{args.model}: only a model with a .json card (a .safetensors model) can keep start seeds")
        with tqdm(total=args.seeds, desc="rank start seeds", unit="seed", disable=None) as bar:
            ranked = rank_start_seeds(model, seeds=args.seeds, candidates=args.candidates,
                                      progress=lambda done: bar.update(done - bar.n))
        best = ranked[: args.keep]
        for entry in best:
            print(f"seed {entry.seed:5d}  score {entry.score:.3f}  brightness {entry.mean_brightness:6.1f} "
                  f"(darkest {entry.darkest_brightness:6.1f})  colourfulness {entry.colourfulness:6.1f}")
        worst = ranked[-1]
        print(f"worst: seed {worst.seed} score {worst.score:.3f} brightness {worst.mean_brightness:.1f} "
              f"(darkest {worst.darkest_brightness:.1f})")
        if args.write:
            path = write_start_seeds(model.path.with_suffix(".json"), [entry.seed for entry in best])
            print(f"wrote start_seeds to {path}")
            print(f"wrote {write_start_previews(model.path)} (the first image of each start, shown while the engine loads)")
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
