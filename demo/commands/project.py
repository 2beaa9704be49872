"""``python -m demo project``: put a photo onto the manifold."""

from __future__ import annotations

import json
from pathlib import Path

HELP = "project a photo onto the generator's manifold (opt, encoder or hybrid)"
DESCRIPTION = """\
Find a latent z whose image G(z) looks like PHOTO. The photo (PNG, JPEG, WebP, GIF, TIFF or BMP;
RGB, RGBA, grey, palette, CMYK or 16-bit; EXIF orientation honoured; JPEGs up to 20000x20000 are
decoded at reduced scale) is centre-cropped and resized to the model's resolution. Methods, as in iGAN:
  opt      Adam from K random starts on pixel error (+ discriminator-feature error when the model has D);
           needs only the generator, so it works on imported DCGAN generators
  encoder  one pass of the trained encoder E(x) -> z (instant, rough); needs E
  hybrid   the encoder's guess refined by Adam (default; iGAN's best); needs E

Writes DIR/projection.png (G(z)), DIR/display.png (G(z) x4 by the display upsampler), DIR/target.png (the cropped photo), DIR/z.npy and
DIR/report.json (method, steps, seconds, pixel_rmse in 0..255 units, perceptual = D-feature error).

examples:
  python -m demo project assets/photos/lake_pier.jpg --method hybrid --steps 200 --out out/lake_pier
  python -m demo project YOUR_PHOTO.jpg --model YOUR_DCGAN_netG.pth --method opt --out out/imported
                     a photo and a DCGAN generator (a PyTorch state_dict) of your own
"""


def add_arguments(parser) -> None:
    parser.add_argument("photo", type=Path, help="the photo to project")
    parser.add_argument("--model", default="landscape64", help="model name or path (default: landscape64)")
    parser.add_argument("--method", default="hybrid", choices=("opt", "encoder", "hybrid"), help="projection method (default: hybrid)")
    parser.add_argument("--steps", type=int, default=200, help="optimisation steps for opt/hybrid (default: 200)")
    parser.add_argument("--candidates", type=int, default=8, help="parallel starts for opt/hybrid (default: 8)")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")


def run(args) -> int:
    import numpy as np
    from tqdm import tqdm

    from demo.data.grid import save_png
    from demo.engine.upsample import load_display, upsample_or_resize
    from demo.engine.checkpoint import load_model
    from demo.engine.device import pick_device
    from demo.engine.projection import project
    from demo.errors import UserError
    from demo.tools.photo import centre_crop_resize, open_photo

    if args.steps < 0:
        raise UserError(f"--steps must be >= 0, got {args.steps}")
    if args.candidates < 1:
        raise UserError(f"--candidates must be >= 1, got {args.candidates}")
    device = pick_device(args.device)
    model = load_model(args.model, device=device)
    if args.method != "opt" and model.E is None:
        raise UserError(f"{args.model}: model {model.card.name!r} has no encoder (E), which --method {args.method} "
                        "needs; use --method opt, which needs only the generator")
    # Decode only as much of the photo as the model's resolution needs (huge JPEGs at 1/8 scale).
    photo = open_photo(args.photo, max_side=None, min_side=model.card.resolution)
    target = centre_crop_resize(photo.pixels, model.card.resolution)
    total = 0 if args.method == "encoder" else args.steps
    with tqdm(total=total, desc=f"project ({args.method})", unit="step", disable=None) as bar:
        result = project(model, target, method=args.method, steps=args.steps, seed=args.seed,
                         candidates=args.candidates, progress=lambda done, _: bar.update(done - bar.n))
    args.out.mkdir(parents=True, exist_ok=True)
    save_png(args.out / "projection.png", result.image)
    save_png(args.out / "display.png", upsample_or_resize(load_display(device, settings=model.card.display), result.image[None])[0])
    save_png(args.out / "target.png", target)
    np.save(args.out / "z.npy", result.z)
    report = {**result.report(), "photo": str(args.photo), "photo_size": list(photo.original_size),
              "model": model.card.name, "device": str(device), "seed": args.seed}
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0
