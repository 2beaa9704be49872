"""Idle benchmark: the CPU an idle window uses once the solver has settled (target: under 5% of a core).

The app opens on the default model, shows its first image, lets the solver spend its budget, then
nothing happens for ``--seconds``: the UI process's CPU time over that span (and the worker's) is
reported as a fraction of one core. Run it offscreen and under a real X server (Xvfb).
"""

from __future__ import annotations

import os
import time


def add_arguments(parser) -> None:
    parser.add_argument("--model", default=None, help="model (default: landscape64 if present, else the stand-in)")
    parser.add_argument("--seconds", type=float, default=10.0, help="idle seconds measured (default: 10)")
    parser.add_argument("--worker", choices=("process", "thread"), default="process", help="worker mode (default: process)")
    parser.add_argument("--size", type=int, default=768, help="square window side (default: 768)")


def run(args) -> dict:
    import psutil

    from demo.app.app import App
    from demo.app.config import AppConfig
    from demo.bench.ui import default_model

    app = App(AppConfig(model=args.model or default_model(), size=(args.size, args.size), worker=args.worker,
                        device=args.device, seed=args.seed))
    me = psutil.Process()
    try:
        deadline = time.perf_counter() + 120
        status = app.status()
        while not (status.first_image_frame is not None and status.idle) and time.perf_counter() < deadline:
            app.frame()
            app.pace()
            status = app.status()
        for _ in range(30):  # the HUD's last refreshes
            app.frame()
            app.pace()
        worker = psutil.Process(app.status().worker_pid) if args.worker == "process" else None
        ui_before, worker_before = me.cpu_times(), worker.cpu_times() if worker else None
        frames_before, drawn = app.status().frames, 0
        started = time.perf_counter()
        while time.perf_counter() - started < args.seconds:
            drawn += app.frame().drawn
            app.pace()
        elapsed = time.perf_counter() - started
        ui_after, worker_after = me.cpu_times(), worker.cpu_times() if worker else None
        status = app.status()
        frames = status.frames - frames_before
    finally:
        app.close()
    busy = lambda a, b: (b.user + b.system) - (a.user + a.system)
    return {
        "suite": "idle",
        "video_driver": os.environ.get("SDL_VIDEODRIVER", "default"),
        "vsync": status.vsync,
        "seconds": round(elapsed, 2),
        "frames": frames,
        "frames_drawn": drawn,
        "ui_core_fraction": round(busy(ui_before, ui_after) / elapsed, 4),
        "worker_core_fraction": None if worker is None else round(busy(worker_before, worker_after) / elapsed, 4),
        "target_core_fraction": 0.05,
    }
