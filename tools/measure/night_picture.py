"""A picture of hybrid projections of held-out night and dusk scenes: per row the 64^2 scene, then its
projection by each model given (docs/bench/night_projection.png). The scenes are the first of
tools/measure/sky_projection.py's held-out seeds per sky kind.

    .venv/bin/python tools/measure/night_picture.py OUT.png MODEL [MODEL ...] [--nights 4] [--dusks 2]
"""

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sky_projection import seeds_by_sky  # noqa: E402

from demo.data.grid import save_png  # noqa: E402
from demo.data.landscapes import LandscapeConfig, render_batch  # noqa: E402
from demo.engine.checkpoint import load_model  # noqa: E402
from demo.engine.projection import project  # noqa: E402

SCALE, GAP = 3, 6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out")
    parser.add_argument("models", nargs="+", help="model names or files, one column each")
    parser.add_argument("--nights", type=int, default=4)
    parser.add_argument("--dusks", type=int, default=2)
    args = parser.parse_args()
    picked = seeds_by_sky(("night", "dusk"))
    seeds = picked["night"][: args.nights] + picked["dusk"][: args.dusks]
    scenes = [cv2.resize(image, (64, 64), interpolation=cv2.INTER_AREA)
              for image in render_batch(seeds, config=LandscapeConfig(size=256))]
    columns = [scenes]
    for name in args.models:
        model = load_model(name)
        columns.append([project(model, scene, method="hybrid", steps=100, seed=0).image for scene in scenes])
        print(f"projected {len(scenes)} scenes with {name}", flush=True)
    tile = lambda image: np.pad(image.repeat(SCALE, 0).repeat(SCALE, 1), ((GAP, GAP), (GAP, GAP), (0, 0)),
                                constant_values=255)
    rows = [np.concatenate([tile(column[i]) for column in columns], axis=1) for i in range(len(scenes))]
    picture = np.concatenate(rows, axis=0)
    print(f"wrote {save_png(Path(args.out), picture)} (seeds {seeds})")


if __name__ == "__main__":
    main()
