"""``python -m demo bench``: benchmarks (speed targets are measured here, never in timed tests)."""

from __future__ import annotations

import importlib
import json
import platform
import sys
from pathlib import Path

HELP = "benchmarks: solver overhead, projection table, sky projections, edit transfer, UI frame time and latency, idle CPU"
DESCRIPTION = """\
Measure, in one run, the figures the project's targets are stated in:
  solver    solver steps/s vs a bare forward+backward+Adam loop at K = 1, 8, 64 (ratio >= 0.9 wanted)
  transfer  per-frame edit transfer cost (flow, upload, shader, readback) vs a pure-OpenCV path
  projection opt vs encoder vs hybrid on held-out images (the table in docs/engine.md)
  skies     hybrid projections of held-out night / dusk / day scenes, and whether the moons are drawn
  display   display images of random samples against true 256^2 scenes: SWD per level, fidelity, ms
  edits     strokes derived from held-out scenes, replayed through the solver: recall, realism (SWD), colour error
  ui        UI frame time p50/p95 and pen-to-first-response latency in a real window
  idle      CPU used by an idle window once the solver has settled (under 5% of a core wanted)

examples:
  python -m demo bench                       solver benchmark, printed as JSON
  python -m demo bench solver --json out/bench_solver.json --batches 8,64
  python -m demo bench transfer
"""

SUITES = ("solver", "projection", "skies", "display", "edits", "transfer", "ui", "idle")


def add_arguments(parser) -> None:
    sub = parser.add_subparsers(dest="suite", metavar="SUITE")
    for name in SUITES:
        try:
            module = importlib.import_module(f"demo.bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"demo.bench.{name}":
                raise
            continue
        import argparse

        suite = sub.add_parser(name, help=(module.__doc__ or name).strip().splitlines()[0].replace("%", "%%"), description=module.__doc__,
                               formatter_class=argparse.RawDescriptionHelpFormatter)
        module.add_arguments(suite)
        suite.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")
        from demo.cli import add_common_arguments

        add_common_arguments(suite)
    parser.add_argument("--json", type=Path, default=None, help="also write the results to this JSON file")


def run(args) -> int:
    suite = args.suite or "solver"
    if args.suite is None:
        # Bare ``bench`` runs the solver suite with its defaults.
        import argparse

        parser = argparse.ArgumentParser()
        importlib.import_module("demo.bench.solver").add_arguments(parser)
        defaults = parser.parse_args([])
        for key, value in vars(defaults).items():
            setattr(args, key, value)
    module = importlib.import_module(f"demo.bench.{suite}")
    import torch

    results = module.run(args)
    results["machine"] = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": __import__("os").cpu_count(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0
