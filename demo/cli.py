"""Command line: ``python -m demo [COMMAND] ...``. With no command it opens the interactive app.

Each command lives in ``demo/commands/<name>.py`` and exposes ``HELP``, ``DESCRIPTION``,
``add_arguments(parser)`` and ``run(args) -> int``. Every command takes ``--device`` and ``--seed``.
Commands are imported lazily, so ``--help`` stays fast and one command's imports never slow another.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import textwrap

from demo.errors import UserError

# name -> module; order is the order shown in --help.
COMMANDS = {
    "app": "demo.commands.app",
    "edit": "demo.commands.edit",
    "project": "demo.commands.project",
    "transfer": "demo.commands.transfer",
    "data": "demo.commands.data",
    "train": "demo.commands.train",
    "bench": "demo.commands.bench",
    "profile": "demo.commands.profile",
}

EPILOG = textwrap.dedent(
    """\
    examples:
      python -m demo                                   open the editor on the default model (landscape64)
      python -m demo --photo assets/photos/lake.jpg   open the editor on your own photo
      python -m demo edit --session assets/sessions/sunset.jsonl --out out/sunset
                                                       replay a recorded session headless, write best.png
      python -m demo project PHOTO --method hybrid --out out/proj
                                                       put a photo onto the manifold
      python -m demo bench                             solver speed vs a bare Adam loop
      python -m demo COMMAND --help                    every flag of one command

    Every command takes --device auto|cpu|cuda|mps (default auto) and --seed N (default 0).
    """
)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                        help="compute device (default: auto = cuda, then mps, then cpu)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; runs on CPU are deterministic for a seed (default: 0)")


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, object]]:
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="iGAN Live: paint color, sketch and warp strokes; a GAN finds images that match them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    modules = {}
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # Command not built yet.
        modules[name] = module
        sub = subparsers.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(sub)
        add_common_arguments(sub)
    return parser, modules


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # No command (or only app flags) opens the app.
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["app", *argv]
    parser, modules = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(modules[args.command].run(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
