"""``python -m demo transfer``: edit a photo through the generator, and carry the edit onto the full-res photo."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

HELP = "edit your own photo: project it, replay a session's strokes, carry the edit onto the full-resolution photo"
DESCRIPTION = """\
A 64x64 generator cannot show your photo in high quality, so the edit moves, not the pixels (iGAN):
  1. project PHOTO onto the manifold (its centred square, at the model's resolution): z0, G(z0)
  2. replay the session's strokes from z0: the edited latent z1, G(z1)
  3. render the morph G(z0) -> G(z1) in --frames frames (one batch through G)
  4. per frame, estimate how G(z0) became G(z_t): dense flow (DIS, kept only where the change is
     geometric), a smooth locally affine color change and a soft mask of what changed, all at model
     resolution. A GAN edit is global, so only the strokes tell the change you asked for from the
     generator's drift elsewhere: a colour stroke changes its region of the photo, grown from the
     stroke edge-aware over the photo itself up to the region's own border (a horizon, a shore) and
     brought up to full resolution guided by the photo (--confine region, the default); sketch and
     warp strokes change the photo near them (--confine strokes does that for every stroke)
  5. apply that change to the photo at full resolution with a shader (warp + color + blend); the
     edit lands on the centred square the model saw and fades out beyond it, the rest is kept

Writes:
  DIR/edited.png            the edited photo, full resolution (the last morph frame)
  DIR/morph/frame_XX.png    the morph on the photo, full resolution, frame 00 = the photo
  DIR/generated_before.png  G(z0), and DIR/generated_after.png G(z1), at model resolution
  DIR/morph.gif, morph.mp4  with --gif / --mp4: the morph there and back (at most --anim-size pixels a side)
  DIR/report.json           seconds per stage, projection and edit figures, sizes

Photos up to the GPU's largest texture (GL_MAX_TEXTURE_SIZE, 16384 on Mesa llvmpipe) are kept at full
size; larger ones are scaled down, with a message. Without EGL, --renderer opencv does the same on the CPU.

examples:
  python -m demo transfer assets/photos/lake_pier.jpg --session assets/sessions/transfer_lake_pier_sky.jsonl \\
      --out out/lake_pier --gif
  python -m demo transfer YOUR_PHOTO.jpg --session assets/sessions/sunset.jsonl --out out/mine --mp4
                     a photo of your own, edited by the bundled sunset session
"""


def add_arguments(parser) -> None:
    parser.add_argument("photo", type=Path, help="the photo to edit (PNG, JPEG or WebP; any size)")
    parser.add_argument("--model", default="landscape64", help="model name in models/ or a path; 'random' = stand-in (default: landscape64)")
    parser.add_argument("--session", required=True, type=Path, help="session file (.jsonl) whose strokes edit the photo")
    parser.add_argument("--out", required=True, type=Path, help="output folder (created)")
    parser.add_argument("--frames", type=int, default=16, help="morph frames, z0 and z1 included (default: 16, as iGAN)")
    parser.add_argument("--gif", action="store_true", help="also write DIR/morph.gif")
    parser.add_argument("--mp4", action="store_true", help="also write DIR/morph.mp4 (H.264 through imageio-ffmpeg)")
    parser.add_argument("--anim-size", type=int, default=512, help="largest side of the gif/mp4 frames in pixels (default: 512)")
    parser.add_argument("--method", default="hybrid", choices=("opt", "encoder", "hybrid"), help="projection method (default: hybrid)")
    parser.add_argument("--projection-steps", type=int, default=200, help="projection optimisation steps (default: 200)")
    parser.add_argument("--steps", type=int, default=100, help="solver steps after the session's strokes (default: 100)")
    parser.add_argument("--candidates", type=int, default=None, help="K candidate latents (default: 8 on CPU, 64 on CUDA)")
    parser.add_argument("--interpolation", default="auto", choices=("auto", "lerp", "slerp"),
                        help="latent path z0 -> z1 (default: auto = lerp for a uniform prior, slerp for a normal one)")
    parser.add_argument("--confine", default="region", choices=("region", "strokes", "none"),
                        help="region: a colour stroke changes its region of the photo, up to the region's border "
                             "(default); strokes: change the photo only within a few model pixels of the strokes; "
                             "none: carry all of G's change, drift included (iGAN)")
    parser.add_argument("--renderer", default="gl", choices=("gl", "opencv"),
                        help="gl: shaders on a headless EGL context (default); opencv: the CPU reference path")


class Stages:
    """Seconds per named stage, accumulated."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, name: str, started: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started

    def report(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in self.seconds.items()}


def _check_arguments(args) -> None:
    from demo.errors import UserError

    for name in ("projection_steps", "steps"):
        if getattr(args, name) < 0:
            raise UserError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    if args.frames < 2:
        raise UserError(f"--frames must be >= 2 (the photo and the edit), got {args.frames}")
    if args.anim_size < 16:
        raise UserError(f"--anim-size must be >= 16, got {args.anim_size}")
    if args.candidates is not None and args.candidates < 1:
        raise UserError(f"--candidates must be >= 1, got {args.candidates}")


def make_renderer(kind: str):
    """(renderer, max photo side, GL description or None, GL context to release or None)."""
    from demo.transfer.pipeline import GLTransfer, OpenCVTransfer

    if kind == "opencv":
        return OpenCVTransfer(), 1 << 15, None, None  # cv2.remap takes coordinates up to 32767
    from demo.gl.context import create_headless_context, describe

    ctx = create_headless_context()
    renderer = GLTransfer(ctx)
    return renderer, renderer.max_size, describe(ctx), ctx


def write_animation(path: Path, frames: list, *, size: int, seconds_per_frame: float) -> None:
    """The morph there and back, frames scaled to at most ``size`` a side (even sides, for H.264)."""
    import cv2
    import imageio.v3 as iio

    from demo.errors import UserError

    height, width = frames[0].shape[:2]
    scale = min(1.0, size / max(height, width))
    even = (max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2))
    small = [cv2.resize(frame, even, interpolation=cv2.INTER_AREA) for frame in frames]
    loop = small + small[-2:0:-1]
    try:
        if path.suffix == ".gif":
            iio.imwrite(path, loop, duration=int(seconds_per_frame * 1000), loop=0)
        else:
            iio.imwrite(path, loop, fps=round(1 / seconds_per_frame), codec="libx264", macro_block_size=2)
    except (OSError, ValueError, RuntimeError) as exc:
        raise UserError(f"{path}: could not write the animation ({exc})") from None


def run(args) -> int:
    _check_arguments(args)
    started = time.perf_counter()
    renderer, max_size, gl_info, ctx = make_renderer(args.renderer)
    try:
        return _transfer(args, renderer, max_size=max_size, gl_info=gl_info, started=started)
    finally:
        if ctx is not None:
            ctx.release()  # a live headless context would stop a later window context from being wrapped


def _transfer(args, renderer, *, max_size: int, gl_info: dict | None, started: float) -> int:
    import numpy as np
    from tqdm import tqdm

    from demo.data.grid import save_png
    from demo.engine.checkpoint import load_model
    from demo.engine.device import pick_device
    from demo.engine.interpolate import default_method, render_morph
    from demo.engine.projection import project
    from demo.engine.replay import replay_session
    from demo.tools.photo import centre_crop_resize, load_photo
    from demo.tools.edit_state import EditState
    from demo.tools.session import read_session
    from demo.tools.brushes import rasterise
    from demo.transfer.edit_region import edit_region
    from demo.transfer.pipeline import TransferEstimator, centre_square, fit_photo
    from demo.transfer.region import RegionConfig, photo_region

    stages = Stages()
    session = read_session(args.session)
    photo = load_photo(args.photo)
    original_size = photo.shape[1::-1]
    photo, message = fit_photo(photo, max_size=max_size, source=str(args.photo))
    if message:
        print(f"note: {message}", file=sys.stderr)
    device = pick_device(args.device)
    model = load_model(args.model, device=device)
    card = model.card
    if card.stand_in:
        print("warning: using a RANDOM-WEIGHT stand-in generator; images are meaningless", file=sys.stderr)
    stages.add("load", started)

    # Project the centred square the model sees.
    started = time.perf_counter()
    target = centre_crop_resize(photo, card.resolution)
    total = 0 if args.method == "encoder" else args.projection_steps
    with tqdm(total=total, desc=f"project ({args.method})", unit="step", disable=None) as bar:
        projection = project(model, target, method=args.method, steps=args.projection_steps, seed=args.seed,
                             progress=lambda done, _: bar.update(done - bar.n))
    stages.add("projection", started)

    # Replay the session's strokes from the photo's latent.
    started = time.perf_counter()
    with tqdm(total=args.steps, desc="edit", unit="step", disable=None) as bar:
        def grow(n: int) -> None:
            bar.total = max(bar.total, bar.n + n)
            bar.update(n)

        outcome = replay_session(session, model=args.model, steps=args.steps, candidates=args.candidates,
                                 seed=args.seed, device=args.device, resolution=card.resolution,
                                 start_z=projection.z, on_steps=grow)
    final = outcome.final
    z1 = final.z[final.current]  # [nz]
    stages.add("edit", started)

    # Morph through G in one batch.
    started = time.perf_counter()
    method = default_method(card.prior) if args.interpolation == "auto" else args.interpolation
    morph = render_morph(model.G, projection.z, z1, frames=args.frames, prior=card.prior, method=method)  # [N, R, R, 3]
    stages.add("morph_generation", started)

    # Carry each frame's change onto the photo: over the colour strokes' region, near the others (--confine).
    started = time.perf_counter()
    region = spread = None
    if args.confine != "none":
        strokes = EditState()
        for event in session.events:
            strokes.apply(event)
        region = edit_region(strokes.constraints(card.resolution))  # [R, R]
    if args.confine == "region":
        paint = rasterise(strokes.visible_strokes, RegionConfig().work_side).color_mask
        spread = photo_region(photo, centre_square(*photo.shape[:2]), paint)  # once for the whole morph
    stages.add("region", started)
    estimator = TransferEstimator()
    renderer.set_photo(photo, rect=centre_square(*photo.shape[:2]))
    source = morph[0].astype(np.float32) / 255.0
    digits = max(2, len(str(args.frames - 1)))
    frames = []
    for index in tqdm(range(args.frames), desc="transfer", unit="frame", disable=None):
        started = time.perf_counter()
        params = estimator(source, morph[index].astype(np.float32) / 255.0, region=region, spread=spread)
        stages.add("flow_and_color_model", started)
        started = time.perf_counter()
        frames.append(renderer.render(params).copy())
        stages.add("render", started)
        started = time.perf_counter()
        save_png(args.out / "morph" / f"frame_{index:0{digits}d}.png", frames[-1])
        stages.add("write_frames", started)

    started = time.perf_counter()
    save_png(args.out / "edited.png", frames[-1])
    save_png(args.out / "generated_before.png", morph[0])
    save_png(args.out / "generated_after.png", morph[-1])
    for flag, suffix in ((args.gif, ".gif"), (args.mp4, ".mp4")):
        if flag:
            write_animation(args.out / f"morph{suffix}", frames, size=args.anim_size, seconds_per_frame=1 / 12)
    stages.add("write_outputs", started)

    seconds = stages.report()
    report = {
        "photo": str(args.photo),
        "photo_size": list(original_size),
        "output_size": list(photo.shape[1::-1]),
        "scaled_down": message,
        "model_region": list(centre_square(*photo.shape[:2])),
        "model": card.name,
        "stand_in": card.stand_in,
        "session": str(args.session),
        "device": str(device),
        "seed": args.seed,
        "projection": projection.report(),
        "edit": {"steps": outcome.steps, "candidates": final.candidates,
                 "loss_initial": float(outcome.initial.losses[0]), "loss_final": float(final.losses[final.current])},
        "frames": args.frames,
        "interpolation": method,
        "renderer": args.renderer,
        "confine": args.confine,
        "gl": gl_info,
        "seconds": seconds,
        "seconds_per_frame": {name: round(seconds[name] / args.frames, 4)
                              for name in ("flow_and_color_model", "render", "write_frames")},
    }
    (args.out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    return 0
