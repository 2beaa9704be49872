"""``python -m demo train gan|encoder|export|calibrate|measure``: train a GAN and its encoder (resumably, on 1..N
processes); calibrate and measure live in train_model_file.py."""

from __future__ import annotations

import json
from pathlib import Path

from demo.commands.train_model_file import (
    calibrate,
    calibration_of,
    card_for_data_domain,
    measure,
    training_images,
)
from demo.data.landscapes import DARK_SCENE_MEAN

HELP = "train a GAN or its encoder (resumable); export, calibrate or measure a model"
DESCRIPTION = """\
Train the GAN, export it as a model, and train the encoder that starts photo projection.

  gan      train G and D on a data set; re-running the same command resumes from the latest
           checkpoint in --out (nets, optimizers, EMA, step count and RNG), so a CPU run can span
           several sessions. Ctrl-C or `kill` saves a checkpoint. When --out has no checkpoint, the run
           continues from models/<name of --out> if it exists (its raw G, EMA G, D and step; fresh Adam):
           a new machine needs no runs/ folder. --init FILE picks another model file, --init none
           starts from random weights. Recipe flags left out keep the run's own settings (its checkpoint),
           else those of the file it starts from (its card's training.config), so a run continued from
           models/landscape64 keeps its --d-tone sqrt --recon-weight 2 --recon-tone sqrt --recon-dark-boost 4
           --recon-blob-gain 4 untold. Writes --out/samples/step_*.png (fixed latents), --out/latest.png
           and --out/log.csv. With --export NAME the result is written as a model.
  export   write the run in --out as a model (--export, default models/landscape64): G (EMA, then
           colour-calibrated as below), D and the raw G in one .safetensors, a .json card with measured
           metrics, and NAME_samples.png. The recipe is read from the run's checkpoint.
  encoder  train E(x) -> z for --model on samples x = G(z) (loss on z and on pixels), resumably in
           --out (default runs/<model>_encoder); then store E in the model file and its figures in the card.
  calibrate  fit --model's colour mean to the training images in --data (its G's BatchNorm scales and
           shifts only; export does this too), measure every figure again and rewrite the model file,
           its card, sample sheet and start previews. For a model trained before export calibrated.
  measure  print --model's held-out FD8: 1000 samples vs 1000 procedural scenes from held-out seeds
           (10,000,000+), and the same figure between two held-out sets (its floor).

Many processes: `torchrun --nproc-per-node N -m demo train gan|encoder ...` trains one model with
DistributedDataParallel (gloo on CPU, nccl on CUDA, one GPU per process); --batch is per process and
only rank 0 writes files. Without torchrun the same command runs as one process. How-to: docs/training.md.

examples:
  python -m demo data landscapes --count 60000 --out data/landscapes64
  python -m demo train gan --data data/landscapes64 --out runs/landscape64 --threads 1   # continues models/landscape64
  python -m demo train gan --out runs/landscape64 --minutes 30 --device cuda
  torchrun --nproc-per-node 2 -m demo train gan --out runs/landscape64 --device cpu
  python -m demo train gan --data data/landscapes64 --out runs/scratch --init none --steps 12000 \\
      --d-tone sqrt --recon-weight 1 --recon-tone sqrt
  python -m demo train export --data data/landscapes64 --out runs/landscape64 --export models/landscape64
  python -m demo train encoder --model landscape64 --steps 3000
  python -m demo train calibrate --model landscape64 --data data/landscapes64
  python -m demo train measure --model landscape64
"""

WHAT = ("gan", "export", "encoder", "calibrate", "measure")


def add_arguments(parser) -> None:
    parser.add_argument("what", choices=WHAT, help="gan | export | encoder | calibrate | measure (see above)")
    parser.add_argument("--data", default="data/landscapes64", help="data set folder or .npy (default: data/landscapes64)")
    parser.add_argument("--out", default=None, help="run folder for checkpoints and samples (gan default: runs/landscape64)")
    parser.add_argument("--steps", type=int, default=None, help="train until this many steps in total (gan: 12000, encoder: 3000)")
    parser.add_argument("--minutes", type=float, default=None,
                        help="stop after this many minutes of this session (checkpoint saved; the same command "
                             "resumes), or at --steps, whichever comes first")
    recipe = parser.add_argument_group(
        "recipe (gan, export)", "A recipe flag left out takes the run's own setting (the checkpoint in --out), else "
        "that of the model file a new run starts from (its card's training.config), else the default below; so "
        "resuming and exporting need no flags repeated. A flag that contradicts the run's checkpoint is refused.")
    recipe.add_argument("--batch", type=int, default=None, help="batch size per process (default: 64)")
    recipe.add_argument("--base", type=int, default=None, help="G width (ngf): 64x64 widths are 8b,4b,2b,b (default: 32)")
    recipe.add_argument("--d-base", type=int, default=None, help="D / E width (default: 32)")
    recipe.add_argument("--d-tone", default=None, choices=("linear", "sqrt"),
                        help="how D sees images: linear, or sqrt, which gives dark detail (night skies) several "
                             "times the contrast so that G learns it (default: linear)")
    recipe.add_argument("--recon-weight", type=float, default=None,
                        help="train an encoder E beside G and add this weight x L1(G(E(x)), x) on real images to "
                             "G's loss, so that every training scene has a latent that draws it (photos project "
                             "cleanly); the export ships that E (default: 0 = off; try 1)")
    recipe.add_argument("--recon-tone", default=None, choices=("linear", "sqrt"),
                        help="the tone curve the reconstruction L1 is taken through: sqrt weighs errors in dark "
                             "scenes (night skies) several times more, as a --d-tone sqrt critic sees them "
                             "(default: linear)")
    recipe.add_argument("--recon-dark-boost", type=float, default=None,
                        help="the reconstruction term draws its own batch, with dark scenes (night skies: mean "
                             f"level under {DARK_SCENE_MEAN}) this many times as often, so that G learns to draw them while D "
                             "still sees the data's own mix of skies (default: 1 = it reconstructs D's batch)")
    recipe.add_argument("--recon-blob-gain", type=float, default=None,
                        help="weigh each pixel of the reconstruction term by 1 + this x how far it stands above its "
                             "surroundings, relative to the image's mean level, so that G learns small bright things "
                             "such as a moon in a night sky (default: 0 = every pixel alike; models/landscape64 was trained with 4)")
    recipe.add_argument("--nz", type=int, default=None, help="latent size (default: 100)")
    recipe.add_argument("--prior", default=None, choices=("uniform", "normal"), help="latent prior (default: uniform[-1,1])")
    recipe.add_argument("--lr", type=float, default=None, help="Adam learning rate of G and D (default: 2e-4)")
    recipe.add_argument("--lr-e", type=float, default=None,
                        help="Adam learning rate of the encoder E, trained beside G when --recon-weight > 0 (default: 5e-4)")
    recipe.add_argument("--ema", type=float, default=None, help="EMA decay of the sampled generator (default: 0.999)")
    recipe.add_argument("--warmup", type=int, default=None,
                        help="steps of learning-rate warm-up whenever Adam starts fresh (default: 100)")
    recipe.add_argument("--translate", type=float, default=None,
                        help="DiffAugment translation fraction on D inputs (default: 0 = off)")
    parser.add_argument("--resolution", type=int, default=None, help="image size (default: the data set's)")
    parser.add_argument("--sample-every", type=int, default=500, help="steps between sample sheets (default: 500)")
    parser.add_argument("--checkpoint-every", type=int, default=250, help="steps between checkpoints (default: 250)")
    parser.add_argument("--export", default=None, metavar="PATH", help="write the model here after training (e.g. models/landscape64)")
    parser.add_argument("--measure-count", type=int, default=1000,
                        help="export / measure: samples and reference images per quality figure (default: 1000, "
                             "the cards' protocol; fewer is faster and noisier)")
    parser.add_argument("--keep-encoder", action="store_true",
                        help="export: keep the encoder of the model file being replaced (made for an earlier G; "
                             "its figures are measured again) instead of shipping none")
    parser.add_argument("--calibration-steps", type=int, default=300,
                        help="export / calibrate: steps of the colour calibration of G (default: 300; 0: export skips it)")
    parser.add_argument("--model", default="landscape64", help="encoder / calibrate / measure: the model (default: landscape64)")
    parser.add_argument("--real-weight", type=float, default=0.0,
                        help="encoder: weight of the pixel loss on real data images, on top of G's samples (default: 0)")
    parser.add_argument("--init", default=None, metavar="MODEL",
                        help="gan: a new run (no checkpoint in --out) continues from this model file's G, D and step "
                             "count, with a fresh Adam (default: models/<name of --out> when it exists; 'none': random "
                             "init). encoder: start from the encoder in this model file (e.g. one made for an earlier G)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1, polite on a shared machine)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar (for logs)")


def run(args) -> int:
    import torch

    from demo.train.loop import start_workers, stop_workers

    torch.set_num_threads(max(1, args.threads))
    _stop_on_sigterm()
    if args.what == "measure":
        return measure(args)
    if args.what == "calibrate":
        return calibrate(args)
    workers, device = start_workers(_device(args))
    try:
        if args.what == "encoder":
            from demo.train.gan.encoder import run_encoder_command

            saved = run_encoder_command(args, device=device, workers=workers)
            if saved is not None:  # rank 0
                card_for_data_domain(saved, args.data)
            return 0
        return _run_gan(args, device=device, workers=workers)
    finally:
        stop_workers()


def _run_gan(args, *, device, workers) -> int:
    from demo.errors import UserError
    from demo.train.shipping.export import export_gan, read_data_meta
    from demo.train.gan.run import open_run, train_gan

    images = training_images(args)
    if device.type == "cuda":
        import torch

        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels once
    run_dir = Path(args.out or "runs/landscape64")
    init = _gan_init(args, run_dir) if args.what == "gan" else None
    config = _settle_config(args, run_dir, init, resolution=images.shape[-1], announce=workers.is_main)
    trainer = open_run(run_dir, config, images, init=init, device=device, workers=workers)
    if args.what == "gan":
        steps = args.steps if args.steps is not None else 12000
        if workers.is_main and trainer.history:
            print(f"resuming {run_dir} at step {trainer.step}/{steps}")
        elif workers.is_main and trainer.step:
            print(f"new run {run_dir} continues from {trainer.provenance.origin}; training to step {steps}")
        train_gan(trainer, run_dir, steps=steps, sample_every=args.sample_every,
                  checkpoint_every=args.checkpoint_every, progress=not args.no_progress, workers=workers,
                  minutes=args.minutes)
        if args.export is None or not workers.is_main:
            return 0
    elif trainer.step == 0:
        raise UserError(f"{run_dir}: no checkpoint to export (train it first with: python -m demo train gan --out {run_dir})")
    if not workers.is_main:
        return 0
    target = args.export or "models/landscape64"
    if args.keep_encoder and config.recon_weight > 0:
        raise UserError("train export: a run with --recon-weight trains its own encoder and ships it; drop --keep-encoder")
    E, encoder_training = _encoder_to_keep(target) if args.keep_encoder else (None, None)
    saved = export_gan(trainer, target, data_meta=read_data_meta(args.data), measure_count=args.measure_count,
                       E=E, encoder_training=encoder_training, calibration=calibration_of(args),
                       progress=not args.no_progress)
    print(f"exported step {trainer.step} to {saved} (+ {saved.with_suffix('.json').name}, {saved.stem}_samples.png)")
    card_for_data_domain(saved, args.data)
    return 0


def _settle_config(args, run_dir: Path, init, *, resolution: int, announce: bool):
    """The run's GanConfig: flags given, else the run's checkpoint, else the --init file's card, else defaults."""
    from demo.errors import UserError
    from demo.train.common import load_checkpoint
    from demo.train.gan.config import RECIPE_FLAGS, settle_config

    state = load_checkpoint(run_dir, mmap=True)  # only its config: open_run reads the weights
    model_card = Path(init).with_suffix(".json") if init is not None and state is None else None
    model = json.loads(model_card.read_text()).get("training", {}).get("config") if model_card and model_card.exists() else None
    try:
        config, sources = settle_config({flag: getattr(args, flag) for flag in RECIPE_FLAGS}, resolution=resolution,
                                        seed=args.seed, run=None if state is None else state["config"], model=model)
        config.generator_config()
    except ValueError as exc:
        raise UserError(f"train {args.what}: {exc}") from None
    if announce and sources:
        origin = {"flag": "flag", "run": f"{run_dir}'s checkpoint", "model": f"{model_card}"}
        print("recipe: " + ", ".join(f"{name}={getattr(config, name)} ({origin[source]})" for name, source in sources.items()))
    return config


def _encoder_to_keep(target: str):
    """The encoder (and its card entry) in the model file that export is about to replace."""
    from demo.engine.checkpoint import load_model
    from demo.errors import UserError

    loaded = load_model(Path(target).with_suffix(".safetensors"))
    if loaded.E is None:
        raise UserError(f"{loaded.path}: --keep-encoder needs a model file that already holds an encoder")
    return loaded.E, loaded.card.training.get("encoder")


def _gan_init(args, run_dir: Path):
    """The model file a new GAN run starts from: --init, or models/<run folder name> when it exists."""
    from demo.engine.checkpoint import MODELS_DIR

    if args.init is not None:
        return None if args.init == "none" else args.init
    shipped = MODELS_DIR / f"{run_dir.name}.safetensors"
    return shipped if shipped.exists() else None


def _stop_on_sigterm() -> None:
    """`kill PID` stops a background run like Ctrl-C does: it saves a checkpoint first."""
    import signal

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def _device(args):
    from demo.engine.device import pick_device

    return pick_device(args.device)
