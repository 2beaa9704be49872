"""``python -m demo`` / ``python -m demo app``: the interactive editor window."""

from __future__ import annotations

from pathlib import Path

HELP = "open the interactive editor (pen, mouse, gamepad); the default command"
DESCRIPTION = """\
Paint on a GAN's image manifold: the color brush says "this color here", the line tool draws a straight
line of colour (a horizon, a shore), the sketch brush draws edges, warp drags content from one place to
another, the eraser removes constraints. After each edit the solver moves K candidate latents toward
images that satisfy the strokes; the best few are shown as thumbnails. Drop a photo on the window (or
pass --photo) to edit it instead.

Press H in the window for every shortcut (keyboard, mouse, pen and gamepad).

examples:
  python -m demo                                    the default model, ready to paint
  python -m demo --photo assets/photos/lake_dusk.jpg --fullscreen
                                                    edit a photo (or YOUR_PHOTO.jpg), fullscreen
  python -m demo --record out/s.jsonl               keep the session (flushed as you paint)
  python -m demo --replay assets/sessions/sunset.jsonl --exit-when-done --screenshot out/sunset.png
                                                    replay a session deterministically, save the window
  python -m demo --model avatars64 --worker thread  the other bundled model, solver in a thread
  python -m demo --model YOUR_MODEL.safetensors     a model file of yours (or a DCGAN generator .pth)
  python -m demo --kiosk --config deploy/kiosk.toml   an exhibition: fullscreen, attract loop, idle reset
  python -m demo --config deploy/kiosk.toml --resume
                                                    flags from a TOML file; restore the newest autosave

Exhibitions (kiosk mode, the TOML file's [kiosk] table, systemd): see docs/exhibition.md.
"""


def _size(text: str) -> tuple[int, int]:
    import argparse

    try:
        width, height = (int(part) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 1024x768, got {text!r}") from None
    if width < 320 or height < 240:
        raise argparse.ArgumentTypeError(f"window {width}x{height} is too small (at least 320x240)")
    return width, height


def add_arguments(parser) -> None:
    from demo.app.config import DEFAULT_MODEL

    parser.add_argument("--model", default=DEFAULT_MODEL,
                        help=f"model name in models/ or a .safetensors/.pth path (default: {DEFAULT_MODEL})")
    parser.add_argument("--photo", type=Path, default=None, help="a photo to edit (PNG/JPEG/WebP; or drop one on the window)")
    parser.add_argument("--fullscreen", action="store_true", help="open fullscreen (F11 toggles)")
    parser.add_argument("--size", type=_size, default=(1024, 768), help="window size WIDTHxHEIGHT (default: 1024x768)")
    parser.add_argument("--candidates", type=int, default=None, help="K candidate latents (default: 8 on CPU, 64 on CUDA)")
    parser.add_argument("--steps", type=int, default=40, help="solver steps after each edit (default: 40, as iGAN)")
    parser.add_argument("--record", type=Path, default=None, help="write the session's input events here (JSONL, flushed per event)")
    parser.add_argument("--replay", type=Path, default=None,
                        help="feed a recorded session through the app; deterministic for a seed and device")
    parser.add_argument("--exit-after-frames", type=int, default=None, metavar="N",
                        help="quit after N frames, counted from the first generated image shown")
    parser.add_argument("--exit-when-done", action="store_true",
                        help="quit once the replay is fed and the solver has spent its steps")
    parser.add_argument("--screenshot", type=Path, default=None, help="save the window as PNG when the app quits")
    parser.add_argument("--worker", choices=("process", "thread", "sync"), default="process",
                        help="where the solver runs: process (default; never stalls the window), thread, or sync (debugging)")
    parser.add_argument("--worker-nice", type=int, default=10, metavar="N",
                        help="lower a process worker's OS priority by N (0..19): the window wins the CPU (default: 10)")
    parser.add_argument("--max-fps", type=float, default=60.0, help="frame cap when there is no vsync (default: 60; 0 = none)")
    parser.add_argument("--save-dir", type=Path, default=Path("saves"), help="where Ctrl+S writes (default: saves/)")
    parser.add_argument("--no-hud", action="store_true", help="hide fps / solver / latency figures")
    parser.add_argument("--hang-seconds", type=float, default=10.0, metavar="S",
                        help="restart the solver when it sends nothing for S seconds while it has work (default: 10)")
    # Exhibition flags (docs/exhibition.md).
    parser.add_argument("--kiosk", action="store_true",
                        help="exhibition mode: fullscreen, no quitting for visitors, attract loop, idle reset")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE.toml",
                        help="read flags from a TOML file (top-level keys: model, size, seed, ...; [kiosk] table)")
    parser.add_argument("--resume", action="store_true",
                        help="restore the newest autosaved edit (from SAVE_DIR/.autosave/, written every few seconds)")
    parser.add_argument("--autosave-seconds", type=float, default=5.0, metavar="S",
                        help="autosave the edit every S seconds when it changed (default: 5; 0: never)")
    parser.add_argument("--metrics-port", type=int, default=None, metavar="PORT",
                        help="serve Prometheus metrics on http://127.0.0.1:PORT/metrics (or as the config's [metrics] says)")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR",
                        help="write a latency profile of this run into DIR on exit (see `python -m demo profile --help`)")


def _flags_parser():
    """This command's flags alone (types, choices, defaults), for reading a --config file."""
    import argparse

    from demo.cli import add_common_arguments

    parser = argparse.ArgumentParser(add_help=False)
    add_arguments(parser)
    add_common_arguments(parser)
    return parser


def exhibition_settings(args):
    """``args`` with a --config file's flags filled in, the kiosk settings and its attract sessions (None
    outside kiosk mode), the session to replay (--resume: the newest autosave), the metrics settings (None: no
    metrics)."""
    import sys

    from demo.app.edit.autosave import latest_autosave
    from demo.app.kiosk.config import KioskConfig, apply_config_file
    from demo.errors import UserError

    from demo.ops.settings import MetricsSettings

    from_file = None
    if args.config is not None:
        args, from_file = apply_config_file(_flags_parser(), args, args.config)
    kiosk = (from_file or KioskConfig()) if args.kiosk else None
    metrics = from_file.metrics if from_file is not None else None
    if args.metrics_port is not None:
        try:
            metrics = MetricsSettings(port=args.metrics_port, host=metrics.host if metrics else "127.0.0.1")
        except ValueError as exc:
            raise UserError(f"--metrics-port: {exc}") from None
    attract = None
    if kiosk is not None:
        from demo.app.kiosk.attract import load_attract_sessions

        attract = load_attract_sessions(kiosk, model=args.model)  # fail before the window opens
    if args.hang_seconds <= 0 or args.autosave_seconds < 0:
        raise UserError("--hang-seconds must be > 0 and --autosave-seconds >= 0")
    replay = args.replay
    if args.resume:
        if replay is not None:
            raise UserError("--resume and --replay both say what to replay; give one")
        replay = latest_autosave(args.save_dir)
        print(f"resuming {replay}" if replay else f"--resume: no autosave in {args.save_dir}/.autosave/; starting fresh",
              file=sys.stderr)
    return args, kiosk, attract, replay, metrics


def run(args) -> int:
    from demo.app.config import AppConfig
    from demo.app.kiosk.config import KioskConfig
    from demo.errors import UserError

    args, kiosk, attract, replay, metrics = exhibition_settings(args)

    if args.candidates is not None and args.candidates < 1:
        raise UserError(f"--candidates must be >= 1, got {args.candidates}")
    if args.steps < 0:
        raise UserError(f"--steps must be >= 0, got {args.steps}")
    if args.photo is not None and not args.photo.exists():
        raise UserError(f"{args.photo}: photo not found")
    config = AppConfig(model=args.model, photo=args.photo, fullscreen=args.fullscreen or kiosk is not None,
                       size=args.size, device=args.device,
                       candidates=args.candidates, seed=args.seed, record=args.record, replay=replay,
                       exit_after_frames=args.exit_after_frames, exit_when_done=args.exit_when_done,
                       screenshot=args.screenshot, worker=args.worker, worker_nice=args.worker_nice, max_fps=args.max_fps, steps=args.steps,
                       save_dir=args.save_dir, hud=not args.no_hud and kiosk is None, profile=args.profile,
                       hang_seconds=args.hang_seconds, kiosk=kiosk, attract_sessions=attract,
                       autosave_seconds=args.autosave_seconds)
    # Start the worker before pygame, moderngl and the app are even imported: torch loads meanwhile.
    from demo.app.config import start_worker

    client = start_worker(config)
    import pygame

    from demo.app.app import App
    from demo.app.kiosk.operations import Operations

    operations = Operations.start(metrics, station=kiosk.station if kiosk is not None else KioskConfig().station)
    try:
        app = App(config, client=client, listeners=operations.listeners)
    except pygame.error as exc:
        client.close()
        operations.close()
        raise UserError(f"cannot open the window ({exc}); on a machine without a display, set SDL_VIDEODRIVER=offscreen") from None
    except BaseException:
        client.close()
        operations.close()
        raise
    operations.watch(app.status)
    try:
        return app.run()
    finally:
        operations.close()
