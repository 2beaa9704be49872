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

# name -> (module, one-line help); order is the order shown in --help. Only the command being
# run is imported, so no command pays for another's imports (torch stays out of `--help`).
COMMANDS = {
    "app": ("demo.commands.app", "open the interactive editor (the default when no command is given)"),
    "edit": ("demo.commands.edit", "replay a recorded session headless; write best.png, candidates.png and report.json"),
    "project": ("demo.commands.project", "project a photo onto the generator's manifold (opt, encoder or hybrid)"),
    "transfer": ("demo.commands.transfer", "carry a session's edit onto a full-resolution photo, with a morph"),
    "sample": ("demo.commands.sample", "write random samples of a model at model and display resolution (NNNN.png, NNNN_display.png)"),
    "data": ("demo.commands.data", "generate a training data set (procedural landscapes, avatars)"),
    "train": ("demo.commands.train", "train a GAN or its encoder (resumable, with progress bars)"),
    "profile": ("demo.commands.profile", "profile the real-time loop: stages, latency, Perfetto trace, report"),
    "bench": ("demo.commands.bench", "benchmarks: solver overhead, projection table, edit transfer, UI frame time"),
    "soak": ("demo.commands.soak", "soak test: the real app in kiosk mode, headless, for minutes; memory and frame drift"),
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


def build_parser(command: str | None = None) -> tuple[argparse.ArgumentParser, object | None]:
    """The parser, with full arguments for ``command`` only; returns it and that command's module."""
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="iGAN Live: paint color, sketch and warp strokes; a GAN finds images that match them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None
    for name, (module_name, help_text) in COMMANDS.items():
        if name != command:
            subparsers.add_parser(name, help=help_text, add_help=False)
            continue
        chosen = importlib.import_module(module_name)
        sub = subparsers.add_parser(
            name,
            help=help_text,
            description=getattr(chosen, "DESCRIPTION", help_text),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        chosen.add_arguments(sub)
        add_common_arguments(sub)
    return parser, chosen


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # No command (or only app flags) opens the app.
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["app", *argv]
    command = next((a for a in argv if not a.startswith("-")), None)
    parser, module = build_parser(command if command in COMMANDS else None)
    args = parser.parse_args(argv)
    if module is None:
        parser.print_help()
        return 0
    try:
        return int(module.run(args) or 0)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
