"""``python -m demo.train.upsampler``: train, evaluate, export, ship and time the display networks."""

from __future__ import annotations

import argparse
import sys

import torch

from demo.engine.upsample import UpsamplerConfig
from demo.errors import UserError
from demo.train.upsampler import report, ship
from demo.train.upsampler import train as train_module
from demo.train.upsampler.data import Degradation
from demo.train.upsampler.train import TrainConfig, train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.train.upsampler", description=train_module.__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="action", required=True)
    train_parser = sub.add_parser("train", help="train (resumable)")
    train_parser.add_argument("--data", nargs="+", required=True, help="256^2 data folders or .npy files")
    train_parser.add_argument("--out", required=True, help="run folder, e.g. runs/upsample4x")
    train_parser.add_argument("--steps", type=int, default=TrainConfig.steps)
    train_parser.add_argument("--projection-probability", type=float, default=Degradation.projection_probability,
                              help="chance that an input is G's own projection of the scene (default: 0; each "
                                   "image is then projected once, about a second of CPU each)")
    train_parser.add_argument("--gan-probability", type=float, default=Degradation.gan_probability,
                              help=f"chance that an input is blended towards G's round trip (default: {Degradation.gan_probability})")
    train_parser.add_argument("--gan-blend", type=float, nargs=2, default=Degradation.gan_blend, metavar=("LO", "HI"),
                              help="how far towards the round trip, drawn from LO..HI (default: %(default)s; 1 is G's "
                                   "image of the scene)")
    train_parser.add_argument("--back-projection-steps", type=int, default=UpsamplerConfig.back_projection_steps,
                              help="the network's back-projection steps, in training and as shipped (default: "
                                   f"{UpsamplerConfig.back_projection_steps})")
    train_parser.add_argument("--fidelity-limit", type=float, default=UpsamplerConfig.fidelity_limit,
                              help="train with the fidelity limit in the loop, in levels (default: 0, off)")
    train_parser.add_argument("--input-smoothing", type=float, default=UpsamplerConfig.input_smoothing,
                              help="train with the bilateral smoothing of G's image in front, colour sigma in levels, "
                                   "as a model card's display settings ask (default: 0, off)")
    train_parser.add_argument("--samples-of", default=None, metavar="MODEL",
                              help="also train on this GAN's own samples (e.g. avatars64), judged by the critic alone "
                                   "(default: none)")
    train_parser.add_argument("--sample-share", type=float, default=0.25,
                              help="with --samples-of: the share of each batch that is G's samples (default: 0.25)")
    train_parser.add_argument("--sample-count", type=int, default=4096,
                              help="with --samples-of: how many samples to draw once (default: 4096)")
    train_parser.add_argument("--sample-seed", type=int, default=2,
                              help="with --samples-of: their seed (default: 2; bench display uses 0, and 1 for "
                                   "validation)")
    train_parser.add_argument("--limit", type=int, default=None, metavar="N",
                              help="use the first N images of each data file (default: all)")
    train_parser.add_argument("--init", default=None, metavar="FILE",
                              help="start a new run from this upsampler file's weights (e.g. "
                                   "models/upsample4x.safetensors; fresh Adam); ignored when the run has a checkpoint")
    train_parser.add_argument("--batch", type=int, default=TrainConfig.batch)
    train_parser.add_argument("--lr", type=float, default=TrainConfig.lr)
    train_parser.add_argument("--gradient-weight", type=float, default=TrainConfig.gradient_weight,
                              help=f"weight of the L1 on image gradients (default: {TrainConfig.gradient_weight})")
    train_parser.add_argument("--detail-weight", type=float, default=TrainConfig.detail_weight,
                              help="weight of the local-detail term (default: 0)")
    train_parser.add_argument("--adversarial-weight", type=float, default=TrainConfig.adversarial_weight,
                              help="weight of the patch critic's loss: > 0 trains a detail generator (default: 0)")
    train_parser.add_argument("--adversarial-after", type=int, default=TrainConfig.adversarial_after,
                              help="reconstruction-only steps before the critic joins (default: "
                                   f"{TrainConfig.adversarial_after})")
    train_parser.add_argument("--critic-width", type=int, default=TrainConfig.critic_width,
                              help=f"channels of the critic's first layer (default: {TrainConfig.critic_width})")
    train_parser.add_argument("--width", type=int, default=UpsamplerConfig.width)
    train_parser.add_argument("--depth", type=int, default=UpsamplerConfig.depth)
    train_parser.add_argument("--seed", type=int, default=0)
    train_parser.add_argument("--no-progress", action="store_true", help="no progress bars (for logs)")
    report.add_parsers(sub)
    ship.add_parser(sub)
    for name, p in sub.choices.items():
        p.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, args.threads))
    try:
        if args.action == "train":
            return train(args)
        if args.action == "ship":
            return ship.ship(args)
        return report.run(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
