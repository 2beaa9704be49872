"""``python -m demo profile``: a latency profile of the real app loop, fed a session in real time."""

from __future__ import annotations

import os
from pathlib import Path

HELP = "profile the real-time loop: frame stages, worker steps, pen-to-image latency (Perfetto trace + report)"
DESCRIPTION = """\
Run the real app (window, input path, worker) while a recorded session is fed in real time, at the
speed its timestamps say, through the same input path as a pen: the profile never waits for the
solver (unlike --replay). Every frame's stages (input, rasterise, submit, poll, upload, draw,
present), every worker chunk (queue wait, rasterise, forward, backward, Adam, evaluate) and the
result hand-off are recorded, with pen-to-image latency for each input event.

Writes into --out:
  report.json   frames, frame_ms and per-stage {count, mean, p50, p95, p99, max}, latency_ms, solver
                steps/s, start-up (window_s, first_image_s: the model's start preview or else the engine's
                first image, first_result_s: the engine's; from process start), device and machine
  trace.json    Chrome trace events: open it in https://ui.perfetto.dev or chrome://tracing
                (UI thread, worker and GPU tracks, steps/s and memory counters, pen -> frame arrows)
  frames.csv    one row per frame: time, frame ms, each stage's ms, solver steps, input latencies
  latency.png   frame-time timeline (16.7 ms line), per-stage bars, latency histogram

By default it runs until the session is fed and the solver has settled. In a live app, press G for
the same figures on screen, or start it with --profile DIR to write this profile on exit.

examples:
  python -m demo profile --headless --out out/profile
  python -m demo profile --session assets/sessions/attract_2_green_valley.jsonl --worker thread --seconds 20 \\
      --out out/profile-thread
  python -m demo profile --device cuda --headless --out out/profile-cuda
"""

DEFAULT_SESSION = Path(__file__).resolve().parents[2] / "assets" / "sessions" / "sunset.jsonl"


def add_arguments(parser) -> None:
    from demo.app.config import DEFAULT_MODEL

    parser.add_argument("--session", type=Path, default=DEFAULT_SESSION,
                        help="session fed in real time (default: assets/sessions/sunset.jsonl)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"model name or path (default: {DEFAULT_MODEL})")
    parser.add_argument("--worker", choices=("process", "thread", "sync"), default="process",
                        help="where the solver runs (default: process, as the app)")
    parser.add_argument("--candidates", type=int, default=None, help="K candidates (default: 8 on CPU, 64 on CUDA)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--frames", type=int, default=None, help="stop after N frames from the first image")
    length.add_argument("--seconds", type=float, default=None, help="stop after S seconds")
    parser.add_argument("--headless", action="store_true", help="an offscreen window (no display needed)")
    parser.add_argument("--size", type=int, default=768, help="square window side in pixels (default: 768)")
    parser.add_argument("--out", type=Path, required=True, help="folder for report.json, trace.json, frames.csv, latency.png")


def run(args) -> int:
    from demo.errors import UserError

    if args.headless:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
    if not args.session.exists():
        raise UserError(f"{args.session}: session not found")
    if args.frames is not None and args.frames < 1 or args.seconds is not None and args.seconds <= 0:
        raise UserError("--frames and --seconds must be positive")
    import time

    import pygame

    from demo.app.app import App
    from demo.app.config import AppConfig
    from demo.profile.recorder import ProfileRecorder

    config = AppConfig(model=args.model, size=(args.size, args.size), device=args.device, candidates=args.candidates,
                       seed=args.seed, worker=args.worker, worker_nice=10 if args.worker == "process" else 0,
                       feed=args.session, profile=args.out, exit_after_frames=args.frames,
                       exit_after_seconds=args.seconds, exit_when_done=args.frames is None and args.seconds is None)
    profiler = ProfileRecorder.for_app(config, clock=time.perf_counter)
    try:
        app = App(config, clock=time.perf_counter, profiler=profiler)
    except pygame.error as exc:
        raise UserError(f"cannot open the window ({exc}); use --headless on a machine without a display") from None
    app.run()
    report = profiler.report_written
    print(f"{report['frames']} frames: frame p50 {report['frame_ms']['p50']} ms, p95 {report['frame_ms']['p95']} ms; "
          f"pen->image p50 {report['latency_ms']['p50']} ms, p95 {report['latency_ms']['p95']} ms; "
          f"solver {report['solver_steps_per_s']} steps/s; first image {report['startup']['first_image_s']} s")
    for path in profiler.written.values():
        print(f"wrote {path}")
    return 0
