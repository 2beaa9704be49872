"""``python -m demo edit``: replay a session's strokes headless and run the solver."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HELP = "replay a recorded session headless; write best.png, candidates.png and report.json"
DESCRIPTION = """\
Replay a session file (JSON Lines of strokes, the format is in docs/sessions.md) through the solver,
headless, and write:
  DIR/best.png        the best candidate (and best_display.png, x4 by the display upsampler)
  DIR/candidates.png  a grid of the top candidates, best first
  DIR/report.json     steps, candidates, seconds, device, losses and color/sketch errors

The solver spends --steps Adam steps after each finished stroke and each command (fix, reset,
pick, undo, redo), as the app's --replay does, so both reach the same result for a seed.
A pick of a thumbnail that is not shown is ignored with a warning, as in the app.

example:
  python -m demo edit --session assets/sessions/sunset.jsonl --out out/sunset --steps 100
"""


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="landscape64",
                        help="model name in models/ or a .safetensors/.pth path; 'random' = random-weight stand-in (default: landscape64)")
    parser.add_argument("--session", required=True, type=Path, help="session file (.jsonl) to replay")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--steps", type=int, default=100, help="solver steps after each stroke and command (default: 100)")
    parser.add_argument("--candidates", type=int, default=None, help="K candidate latents (default: 8 on CPU, 64 on CUDA)")
    parser.add_argument("--top-k", type=int, default=16, help="candidates shown in candidates.png (default: 16)")


def run(args) -> int:
    from tqdm import tqdm

    from demo.data.grid import image_grid, save_png
    from demo.engine.upsample import load_display, upsample_or_resize
    from demo.engine.checkpoint import load_model
    from demo.engine.device import pick_device
    from demo.engine.replay import replay_session
    from demo.errors import UserError
    from demo.tools.session import read_session

    if args.steps < 0:
        raise UserError(f"--steps must be >= 0, got {args.steps}")
    if args.candidates is not None and args.candidates < 1:
        raise UserError(f"--candidates must be >= 1, got {args.candidates}")
    session = read_session(args.session)
    pick_device(args.device)  # Fail early on an unavailable device.
    card = load_model(args.model).card  # Fail early, with the file's name, on a bad model.
    if card.stand_in:
        print("warning: using a RANDOM-WEIGHT stand-in generator; images are meaningless", file=sys.stderr)
    strokes = sum(1 for e in session.events if e.type == "down")
    with tqdm(total=args.steps, desc=f"edit ({strokes} strokes)", unit="step", disable=None) as bar:
        def grow(n: int) -> None:
            if bar.n + n > bar.total:
                bar.total = bar.n + n
            bar.update(n)

        outcome = replay_session(session, model=args.model, steps=args.steps, candidates=args.candidates,
                                 seed=args.seed, device=args.device, resolution=card.resolution,
                                 top_k=args.top_k, on_steps=grow)
    final, initial = outcome.final, outcome.initial
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    best = final.image
    save_png(out / "best.png", best)
    save_png(out / "best_display.png", upsample_or_resize(load_display(settings=card.display), best[None])[0])
    save_png(out / "candidates.png", image_grid(final.images, columns=min(8, len(final.images))))
    report = {
        "model": card.name,
        "stand_in": card.stand_in,
        "session": str(args.session),
        "steps": outcome.steps,
        "candidates": final.candidates,
        "seconds": round(outcome.seconds, 4),
        "device": final.device,
        "seed": args.seed,
        "loss_initial": float(initial.losses[0]),
        "loss_final": float(final.losses[final.current]),
    }
    if outcome.has_color:
        report["color_error_initial"] = float(initial.color_rmse[0])
        report["color_error_final"] = float(final.color_rmse[final.current])
    if outcome.has_sketch:
        report["sketch_error_initial"] = float(initial.sketch_error[0])
        report["sketch_error_final"] = float(final.sketch_error[final.current])
    if outcome.warnings:
        report["ignored_commands"] = list(outcome.warnings)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0
