"""``python -m demo.train.upsampler ship``: a run's latest weights into a model file, under an existing card.

For the detail generator, whose figures come from ``python -m demo bench display`` rather than from
``export``'s held-out PSNR: the card's text (what, data, licence) is kept, its training figures are read
from the run's log, and its metrics from a ``bench display --json`` report (without one, the card says the
file is not measured yet). ``--weights FILE`` ships an existing model file's weights instead of the run's
latest (its card's training figures are kept), so that inference settings can change without retraining:
``--back-projection-steps``, ``--residual-gain``, ``--fidelity-limit`` and ``--input-smoothing``
(``UpsamplerConfig``); several ``--weights`` files of one network ship the mean of their weights.
"""

from __future__ import annotations

import json
from pathlib import Path

from demo.engine.upsample import INFERENCE_SETTINGS, UpsampleNet, read_upsampler, save_upsampler
from demo.errors import UserError
from demo.train.upsampler.report import training_seconds
from demo.train.upsampler.train import network_shape, trained_net

SETTING_HELP = {  # each of INFERENCE_SETTINGS: its add_argument settings
    "back_projection_steps": {"type": int, "help": "back-projection steps at inference"},
    "residual_gain": {"type": float, "help": "scale of the learnt residual (the detail) at inference"},
    "fidelity_limit": {"type": float, "help": "levels a 64^2 block may stray from G's image (0: off)"},
    "input_smoothing": {"type": float, "help": "bilateral colour sigma (levels) on G's image first (0: off)"},
}
# flag: (UpsamplerConfig field, add_argument settings), one per setting a file may change at inference
INFERENCE = {f"--{field.replace('_', '-')}": (field, SETTING_HELP[field]) for field in INFERENCE_SETTINGS}
ARGUMENTS = {  # flag: add_argument settings
    "--out": {"default": None, "help": "run folder, e.g. runs/detail4x (its latest weights and training log)"},
    "--weights": {"type": Path, "default": None, "nargs": "+", "metavar": "FILE",
                  "help": "ship this model file's weights instead of a run's (its card's training figures are kept); "
                          "several files of one shape (e.g. one run's checkpoints, each shipped at its step) ship "
                          "their mean, which steadies a critic-trained network's step-to-step swings"},
    "--card": {"required": True, "type": Path, "help": "the card to keep, e.g. models/detail4x.json"},
    "--display": {"type": Path, "default": None,
                  "help": "a `python -m demo bench display --upsampler FILE --json REPORT` report of these weights"},
    "--model-out": {"required": True, "type": Path, "help": "where to write, e.g. models/detail4x.safetensors"},
    **{flag: {**settings, "default": None, "help": settings["help"] + " (default: as trained or shipped)"}
       for flag, (_, settings) in INFERENCE.items()},
}


def add_parser(sub) -> None:
    parser = sub.add_parser("ship", help="write a run's latest weights (or a model file's, with other inference settings) under an existing card")
    for flag, settings in ARGUMENTS.items():
        parser.add_argument(flag, **settings)


def run_training(run_dir: Path, card: dict, step: int) -> dict:
    """``card``'s training entry with the figures of the run in ``run_dir`` at ``step``, from its log."""
    rows = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    return {**card.get("training", {}), "steps": step, "seconds": training_seconds(rows),
            "final_loss": rows[-1]["loss"] if rows else None}


def shipped_card(card: dict, *, training: dict, display: dict | None) -> dict:
    """``card`` with ``training`` and, from a bench display report, its metrics."""
    kept = {key: value for key, value in card.items() if key not in ("config", "metrics", "metric_notes", "training")}
    if display is None:
        return {**kept, "training": training, "metric_notes": "not measured yet: run python -m demo bench display"}
    metrics = {kind: {key: value for key, value in figures.items() if key not in ("model", "upsampler")}
               for kind, figures in display["kinds"].items()}
    notes = card.get("metric_notes", "python -m demo bench display")
    return {**kept, "training": training, "metrics": metrics, "metric_notes": notes}


def averaged(files: list[Path], card: dict) -> tuple[UpsampleNet, dict]:
    """The mean of the files' networks (one file: its network) and the last file's training entry (else the
    card's; list a run's files in step order, so that it holds the whole run), which lists the steps averaged."""
    loaded = [read_upsampler(file) for file in files]
    shapes = {network_shape(upsampler.net.config) for upsampler in loaded}
    if len(shapes) > 1:
        raise UserError(f"ship: --weights files differ in shape {sorted(shapes)}; only one network's steps average")
    net, training = loaded[0].net, loaded[-1].card.get("training", card.get("training", {}))
    if len(loaded) > 1:
        states = [upsampler.net.state_dict() for upsampler in loaded]
        net = net.reconfigured()
        net.load_state_dict({key: sum(state[key] for state in states) / len(states) for key in states[0]})
        training = {**training, "averaged_steps": [upsampler.card.get("training", {}).get("steps") for upsampler in loaded]}
    return net, training


def inference_settings(args) -> dict:
    """The ``UpsamplerConfig`` inference settings given on the command line."""
    given = {field: getattr(args, flag[2:].replace("-", "_")) for flag, (field, _) in INFERENCE.items()}
    return {field: value for field, value in given.items() if value is not None}


def ship(args) -> int:
    if (args.out is None) == (args.weights is None):
        raise UserError("ship: give either --out RUN (a run's latest weights) or --weights FILE (a model file's)")
    try:
        card = json.loads(args.card.read_text())
        display = json.loads(args.display.read_text()) if args.display is not None else None
    except (OSError, json.JSONDecodeError) as exc:
        raise UserError(f"ship: {exc}") from None
    if args.weights is not None:
        net, training = averaged(args.weights, card)
    else:
        net, info = trained_net(Path(args.out))
        training = run_training(Path(args.out), card, info["step"])
    net = net.reconfigured(**inference_settings(args))
    written = save_upsampler(args.model_out, net, shipped_card(card, training=training, display=display))
    print(f"wrote {written} and {written.with_suffix('.json')} (step {training.get('steps')})")
    return 0
