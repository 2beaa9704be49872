"""``python -m demo sample``: write random samples of a model, at model and at display resolution."""

from __future__ import annotations

import json
import sys
from pathlib import Path

HELP = "write random samples of a model: NNNN.png (model resolution) and NNNN_display.png (x4)"
DESCRIPTION = """\
Draw --count latents from the model's prior (deterministic for --seed) and write, for each:
  DIR/NNNN.png          G(z) at the model's resolution (64x64 for the bundled models)
  DIR/NNNN_display.png  the same image at display resolution (x4, 256x256), by the model's own display
                        network (avatars64: models/detail4x_avatars) or the detail generator
                        models/detail4x (else models/upsample4x, else bicubic, each with a warning)
  DIR/samples.json      model, seed, count, both resolutions and which upsampler was used

examples:
  python -m demo sample --model landscape64 --count 16 --out out/samples
  python -m demo sample --model avatars64 --count 64 --out out/avatars --seed 7
"""

BATCH = 16


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="landscape64",
                        help="model name in models/ or a .safetensors/.pth path (default: landscape64)")
    parser.add_argument("--count", type=int, default=16, help="number of samples (default: 16)")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")


def run(args) -> int:
    import torch
    from tqdm import tqdm

    from demo.data.grid import save_png
    from demo.engine.checkpoint import load_model
    from demo.engine.device import pick_device
    from demo.engine.latent import sample_prior
    from demo.engine.projection import to_uint8
    from demo.engine.upsample import load_display, upsample_or_resize
    from demo.errors import UserError

    if args.count < 1:
        raise UserError(f"--count must be >= 1, got {args.count}")
    device = pick_device(args.device)
    model = load_model(args.model, device=device)
    card = model.card
    if card.stand_in:
        print("warning: using a RANDOM-WEIGHT stand-in generator; images are meaningless", file=sys.stderr)
    upsampler = load_display(device, settings=card.display)
    if upsampler is None:
        print("warning: no display network in models/; display images are bicubic", file=sys.stderr)
    generator = torch.Generator().manual_seed(args.seed)
    z = sample_prior(card.prior, args.count, card.nz, generator)  # [N, nz], on the CPU
    args.out.mkdir(parents=True, exist_ok=True)
    digits = max(4, len(str(args.count - 1)))
    with tqdm(total=args.count, desc=f"sample ({card.name})", unit="img", disable=None) as bar, torch.inference_mode():
        for start in range(0, args.count, BATCH):
            images = to_uint8(model.G(z[start : start + BATCH].to(device)))  # [B, R, R, 3]
            display = upsample_or_resize(upsampler, images)  # [B, 4R, 4R, 3]
            for offset, (image, big) in enumerate(zip(images, display)):
                name = f"{start + offset:0{digits}d}"
                save_png(args.out / f"{name}.png", image)
                save_png(args.out / f"{name}_display.png", big)
            bar.update(len(images))
    report = {"model": card.name, "stand_in": card.stand_in, "count": args.count, "seed": args.seed,
              "resolution": card.resolution, "display_resolution": int(display.shape[1]),
              "upsampler": None if upsampler is None else upsampler.card.get("name", "upsample4x"),
              "device": str(device)}
    (args.out / "samples.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.count} samples to {args.out} ({card.resolution}px and {report['display_resolution']}px)")
    return 0
