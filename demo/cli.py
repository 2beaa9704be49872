"""Command line: ``python -m demo [COMMAND] ...``. With no command it opens the interactive app.

Each command lives in ``demo/commands/<name>.py`` and exposes ``HELP`` (its line in ``--help``),
``DESCRIPTION`` (its own ``--help`` page, with examples), ``add_arguments(parser)`` and ``run(args) -> int``.
Every command takes ``--device`` and ``--seed``. Commands are imported lazily, so ``--help`` stays fast and
one command's imports never slow another: the list in ``--help`` reads each module's ``HELP`` from its source
without importing it.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import sys
import textwrap
from pathlib import Path

from demo.errors import UserError

# name -> module; order is the order shown in --help. Only the command being run is imported, so no
# command pays for another's imports (torch stays out of `--help`).
COMMANDS = {
    "app": "demo.commands.app",
    "edit": "demo.commands.edit",
    "project": "demo.commands.project",
    "transfer": "demo.commands.transfer",
    "sample": "demo.commands.sample",
    "data": "demo.commands.data",
    "train": "demo.commands.train",
    "profile": "demo.commands.profile",
    "bench": "demo.commands.bench",
    "soak": "demo.commands.soak",
    "gallery": "demo.commands.gallery",
}

# Every path an example names exists in the repository (tests/test_examples.py checks it), except
# the files a user brings, which are spelt YOUR_....
EPILOG = textwrap.dedent(
    """\
    examples:
      python -m demo                                   open the editor on the default model (landscape64)
      python -m demo --photo assets/photos/lake_pier.jpg
                                                       open the editor on a photo (or YOUR_PHOTO.jpg)
      python -m demo edit --session assets/sessions/sunset.jsonl --out out/sunset
                                                       replay a recorded session headless, write best.png
      python -m demo project assets/photos/lake_pier.jpg --method hybrid --out out/proj
                                                       put a photo onto the manifold
      python -m demo bench                             solver speed vs a bare Adam loop
      python -m demo COMMAND --help                    every flag of one command

    Every command takes --device auto|cpu|cuda|mps (default auto) and --seed N (default 0).
    """
)


def command_help(module_name: str) -> str:
    """A command module's ``HELP`` string, read from its source without importing the module."""
    spec = importlib.util.find_spec(module_name)
    if spec is None or spec.origin is None:
        raise LookupError(f"no module {module_name}")
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "HELP" for t in node.targets):
            return ast.literal_eval(node.value)
    raise LookupError(f"{module_name} has no HELP string")


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda", "mps"),
                        help="compute device (default: auto = cuda, then mps, then cpu)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; runs on CPU are deterministic for a seed (default: 0)")


def build_parser(command: str | None = None) -> tuple[argparse.ArgumentParser, object | None]:
    """The parser, with full arguments for ``command`` only; returns it and that command's module."""
    parser = argparse.ArgumentParser(
        prog="python -m demo",
        description="iGAN Live: paint color, line, sketch and warp strokes; a GAN finds images that match them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = None
    for name, module_name in COMMANDS.items():
        if name != command:
            subparsers.add_parser(name, help=_escape(command_help(module_name)), add_help=False)
            continue
        chosen = importlib.import_module(module_name)
        sub = subparsers.add_parser(
            name,
            help=_escape(chosen.HELP),
            description=getattr(chosen, "DESCRIPTION", chosen.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        chosen.add_arguments(sub)
        add_common_arguments(sub)
    return parser, chosen


def _escape(help_text: str) -> str:
    """argparse %-formats help strings: a literal % (as in "5% of a core") must be doubled."""
    return help_text.replace("%", "%%")


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
