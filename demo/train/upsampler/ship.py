"""``python -m demo.train.upsampler ship``: a run's latest weights into a model file, under an existing card.

For the detail generator, whose figures come from ``python -m demo bench display`` rather than from
``export``'s held-out PSNR: the card's text (what, data, licence) is kept, its training figures are read
from the run's log, and its metrics from a ``bench display --json`` report (without one, the card says the
file is not measured yet). ``--back-projection-steps`` sets the inference-time back-projection.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from demo.engine.upsample import UpsampleNet, save_upsampler
from demo.errors import UserError
from demo.train.upsampler.report import training_seconds
from demo.train.upsampler.train import trained_net


ARGUMENTS = {  # flag: add_argument settings
    "--out": {"required": True, "help": "run folder, e.g. runs/detail4x"},
    "--card": {"required": True, "type": Path, "help": "the card to keep, e.g. models/detail4x.json"},
    "--display": {"type": Path, "default": None,
                  "help": "a `python -m demo bench display --upsampler FILE --json REPORT` report of these weights"},
    "--model-out": {"required": True, "type": Path, "help": "where to write, e.g. models/detail4x.safetensors"},
    "--back-projection-steps": {"type": int, "default": None, "help": "back-projection steps at inference (default: the run's)"},
}


def add_parser(sub) -> None:
    parser = sub.add_parser("ship", help="write a run's latest weights under an existing card (figures from bench display)")
    for flag, settings in ARGUMENTS.items():
        parser.add_argument(flag, **settings)


def shipped_card(card: dict, *, run_dir: Path, step: int, display: dict | None) -> dict:
    """``card`` with the run's training figures and, from a bench display report, its metrics."""
    rows = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    training = {**card.get("training", {}), "steps": step, "seconds": training_seconds(rows),
                "final_loss": rows[-1]["loss"] if rows else None}
    kept = {key: value for key, value in card.items() if key not in ("config", "metrics", "metric_notes", "training")}
    if display is None:
        return {**kept, "training": training, "metric_notes": "not measured yet: run python -m demo bench display"}
    metrics = {kind: {key: value for key, value in figures.items() if key not in ("model", "upsampler")}
               for kind, figures in display["kinds"].items()}
    notes = card.get("metric_notes", "python -m demo bench display")
    return {**kept, "training": training, "metrics": metrics, "metric_notes": notes}


def ship(args) -> int:
    run_dir = Path(args.out)
    net, info = trained_net(run_dir)
    if args.back_projection_steps is not None:
        steps = UpsampleNet(replace(net.config, back_projection_steps=args.back_projection_steps))
        steps.load_state_dict(net.state_dict())
        net = steps.eval().requires_grad_(False)
    try:
        card = json.loads(args.card.read_text())
        display = json.loads(args.display.read_text()) if args.display is not None else None
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"ship: {exc}") from None
    written = save_upsampler(args.model_out, net, shipped_card(card, run_dir=run_dir, step=info["step"], display=display))
    print(f"wrote {written} and {written.with_suffix('.json')} (step {info['step']})")
    return 0
