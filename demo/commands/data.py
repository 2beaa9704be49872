"""``python -m demo data landscapes|avatars``: write a training set (procedural landscapes, DiceBear avatars)."""

from __future__ import annotations

import json
import time
from multiprocessing import Pool
from pathlib import Path

import numpy as np

HELP = "generate training data (procedural landscapes, DiceBear avatars)"
DESCRIPTION = """\
Generate the procedural landscape data set that models/landscape64 is trained on.

Writes DIR/landscapes.npy (uint8 [N, size, size, 3], RGB), DIR/meta.json (count, size, seeds,
measured images/s) and DIR/preview.png (an 8x8 grid of the first 64 images).
Image i is drawn from seed (--seed * 10_000_000 + i), so the set is identical on every machine;
a different --seed gives images the training set never saw (use it for held-out tests).

example:
  python -m demo data landscapes --count 60000 --size 64 --out data/landscapes64

avatars (models/avatars64): aligned head-and-shoulders portraits from DiceBear styles under CC-BY-4.0,
rendered by Node (tools/avatars; the first run does `npm ci` there, so it needs node, npm and the npm
registry once). Writes DIR/avatars.npy, DIR/meta.json (styles, licences, attribution, img/s) and
DIR/preview.png. Same seed scheme as above. See docs/avatars.md.
  python -m demo data avatars --count 30000 --size 64 --out data/avatars64 --workers 2
"""

KINDS = ("landscapes", "avatars")


def add_arguments(parser) -> None:
    parser.add_argument("kind", choices=KINDS, help="which data set: landscapes | avatars")
    parser.add_argument("--count", type=int, default=60000, help="number of images (default: 60000)")
    parser.add_argument("--size", type=int, default=64, help="image size in pixels (default: 64)")
    parser.add_argument("--supersample", type=int, default=2, help="draw at size*N then downsample, for anti-aliasing (default: 2)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (default: 1; the machine is shared)")
    parser.add_argument("--out", required=True, help="output folder, e.g. data/landscapes64")


def seed_of(split_seed: int, index: int) -> int:
    """The seed of image ``index`` in the set made with ``--seed split_seed``."""
    return split_seed * 10_000_000 + index


def _render_chunk(job: tuple[int, int, int, int, int]) -> np.ndarray:
    from demo.data.landscapes import LandscapeConfig, render_batch

    split_seed, start, stop, size, supersample = job
    config = LandscapeConfig(size=size, supersample=supersample)
    return render_batch([seed_of(split_seed, i) for i in range(start, stop)], config=config)


def run(args) -> int:
    from tqdm import tqdm

    from demo.data.grid import image_grid, save_png
    from demo.data.landscapes import LandscapeConfig
    from demo.errors import UserError

    if args.kind == "avatars":
        return _run_avatars(args)
    try:
        LandscapeConfig(size=args.size, supersample=args.supersample)
    except ValueError as exc:
        raise UserError(f"--size/--supersample: {exc}") from None
    if args.count < 1:
        raise UserError(f"--count must be >= 1, got {args.count}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "landscapes.npy"
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(args.count, args.size, args.size, 3))
    chunk = 256
    jobs = [(args.seed, s, min(s + chunk, args.count), args.size, args.supersample) for s in range(0, args.count, chunk)]
    start_time = time.perf_counter()
    with tqdm(total=args.count, unit="img", desc="landscapes") as bar:
        if args.workers > 1:
            with Pool(args.workers) as pool:
                for (_, s, e, _, _), images in zip(jobs, pool.imap(_render_chunk, jobs)):
                    array[s:e] = images
                    bar.update(e - s)
        else:
            for job in jobs:
                array[job[1] : job[2]] = _render_chunk(job)
                bar.update(job[2] - job[1])
    seconds = time.perf_counter() - start_time
    array.flush()
    save_png(out / "preview.png", image_grid(np.asarray(array[:64])))
    meta = {
        "kind": args.kind,
        "count": args.count,
        "size": args.size,
        "supersample": args.supersample,
        "split_seed": args.seed,
        "seeds": f"{seed_of(args.seed, 0)}..{seed_of(args.seed, args.count - 1)}",
        "workers": args.workers,
        "seconds": round(seconds, 2),
        "images_per_second": round(args.count / seconds, 1),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {path} ({args.count} images, {meta['images_per_second']} img/s with {args.workers} worker(s)), "
          f"{out / 'preview.png'}, {out / 'meta.json'}")
    return 0


def _run_avatars(args) -> int:
    from demo.data.avatars import AvatarConfig, write_dataset
    from demo.errors import UserError

    try:
        config = AvatarConfig(size=args.size, supersample=args.supersample)
    except ValueError as exc:
        raise UserError(f"--size/--supersample: {exc}") from None
    if args.count < 1:
        raise UserError(f"--count must be >= 1, got {args.count}")
    out = Path(args.out)
    seeds = [seed_of(args.seed, i) for i in range(args.count)]
    meta = write_dataset(out, seeds, config=config, workers=args.workers)
    print(f"wrote {out / meta['file']} ({args.count} images, {meta['images_per_second']} img/s with {args.workers} "
          f"worker(s)), {out / 'preview.png'}, {out / 'meta.json'}")
    return 0
