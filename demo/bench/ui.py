"""UI benchmark: frame time p50/p95 in a real window while the solver runs, and pen-to-first-response latency.

A scripted pen (a thread posting mouse events at 120 Hz, as a tablet would, each stamped with the
time it was created) draws strokes for ``--seconds`` while the solver runs at K candidates in the
chosen worker. Frame time is each frame's own work (input .. present); the interval is start to start
(paced to 60 Hz without vsync). Latency runs from a pen event's creation to the first presented frame
that shows a solver step which saw it (demo.app.loop.timing.LatencyTracker). Every worker mode is run in
turn, in the same process, so they share the machine's state as far as possible. With ``--photo`` the window
opens that photo, waits for its projection, and measures with the photo view on (the edit carried onto the
photo by the transfer shader): also how many times a second the photo view is drawn with a new estimate.
"""

from __future__ import annotations

import math
import os
import threading
import time

import numpy as np

from demo.profile.stats import summary


def add_arguments(parser) -> None:
    parser.add_argument("--model", default=None,
                        help="model (default: landscape64 if present in models/, else the 'random' 64 px stand-in)")
    parser.add_argument("--size", type=int, default=768, help="square window side in pixels (default: 768)")
    parser.add_argument("--candidates", type=int, default=8, help="K candidates the solver optimises (default: 8)")
    parser.add_argument("--seconds", type=float, default=15.0, help="measured seconds per worker mode (default: 15)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds drawn before measuring (default: 2)")
    parser.add_argument("--workers", default="process,thread,sync",
                        help="worker modes to compare, comma-separated (default: process,thread,sync)")
    parser.add_argument("--pen-hz", type=float, default=120.0, help="pen event rate (default: 120)")
    parser.add_argument("--worker-nice", type=int, default=10, help="OS priority drop of the process worker (default: 10, as the app)")
    parser.add_argument("--gl-threads", type=int, default=None,
                        help="llvmpipe render threads (LP_NUM_THREADS) for the window (default: the app's)")
    parser.add_argument("--profiler", choices=("off", "on", "both"), default="off",
                        help="record a profile while measuring; 'both' runs each mode without and with it, to measure "
                             "the profiler's overhead (default: off)")
    parser.add_argument("--photo", default=None, metavar="PATH",
                        help="open this photo and measure with the photo view on; adds photo-view updates/s")
    parser.add_argument("--solver-alone", type=float, default=5.0, metavar="SECONDS",
                        help="also time the solver alone (same model, K, thread count and strokes) for the in-app "
                             "ratio; 0 skips it (default: 5)")


def default_model() -> str:
    from demo.engine.checkpoint import MODELS_DIR

    return "landscape64" if (MODELS_DIR / "landscape64.safetensors").exists() else "random"


class ScriptedPen(threading.Thread):
    """Posts mouse strokes (1 s drawing, 0.4 s lifted) over the canvas, stamped with ``input_time``."""

    def __init__(self, canvas: tuple[float, float, float, float], *, hz: float, clock=time.perf_counter):
        super().__init__(daemon=True, name="scripted-pen")
        self.canvas, self.hz, self.clock = canvas, hz, clock
        self.stop = threading.Event()
        self.posted = 0

    def _post(self, kind, position, **fields) -> None:
        import pygame

        pygame.event.post(pygame.event.Event(kind, pos=position, touch=False, input_time=self.clock(), **fields))
        self.posted += 1

    def run(self) -> None:
        import pygame

        x, y, w, h = self.canvas
        stroke = 0
        while not self.stop.is_set():
            # Each stroke is a different arc, so every move changes the constraints.
            cx, cy, r = x + w * (0.3 + 0.4 * ((stroke * 0.37) % 1)), y + h * (0.3 + 0.4 * ((stroke * 0.61) % 1)), 0.2 * w
            point = lambda a: (int(cx + r * math.cos(a)), int(cy + r * math.sin(a)))
            self._post(pygame.MOUSEBUTTONDOWN, point(0.0), button=1)
            started = self.clock()
            while not self.stop.is_set() and self.clock() - started < 1.0:
                time.sleep(1.0 / self.hz)
                self._post(pygame.MOUSEMOTION, point(3.0 * (self.clock() - started)), rel=(1, 1), buttons=(1, 0, 0))
            self._post(pygame.MOUSEBUTTONUP, point(3.0), button=1)
            stroke += 1
            self.stop.wait(0.4)


def measure(mode: str, *, model: str, size: int, candidates: int, seconds: float, warmup: float, pen_hz: float,
            device: str, seed: int, worker_nice: int = 0, profile_dir=None, gl_threads: int | None = None,
            photo: str | None = None) -> dict:
    """One worker mode: frame times, latency and solver speed while a scripted pen draws."""
    from demo.app.app import App
    from demo.app.config import AppConfig
    from demo.app.loop.timing import STAGES
    from demo.app.render.layout import compute_layout

    config = AppConfig(model=model, size=(size, size), worker=mode, candidates=candidates, device=device, seed=seed,
                       max_fps=60.0, worker_nice=worker_nice if mode == "process" else 0, profile=profile_dir, photo=photo,
                       **({} if gl_threads is None else {"gl_threads": gl_threads}))
    app = App(config)
    desk = app.photos  # the photo view's counter of redraws (--photo)
    pen = None
    try:
        # Load the model (its first result; with a photo, its projection too), then draw a while before measuring.
        deadline = time.perf_counter() + (300 if photo else 120)
        status = app.status()
        # With a photo: until it is projected (photo_z set) and shown. It goes to the engine with the first
        # request after the first result, so a result that is not projecting does not mean it is done.
        def loading(status) -> bool:
            return status.result is None or (photo is not None and (
                status.result.projecting or status.result.photo_z is None or not desk.ready))

        while time.perf_counter() < deadline and status.error is None and loading(status):
            app.frame()
            app.pace()
            status = app.status()
        if loading(status):
            raise RuntimeError(f"{mode} worker gave no result: {status.error}")
        canvas = compute_layout((size, size), thumbnails=config.top_k).viewport  # where the app's canvas is
        pen = ScriptedPen((canvas.x, canvas.y, canvas.width, canvas.height), hz=pen_hz)
        pen.start()
        end_warmup = time.perf_counter() + warmup
        while time.perf_counter() < end_warmup:
            app.frame()
            app.pace()
        first = app.status()
        photo_updates = desk.updates
        records = []
        load_before = os.getloadavg()
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            records.append(app.frame())
            app.pace()
        elapsed = time.perf_counter() - started
        last = app.status()
        photo_updates = desk.updates - photo_updates
    finally:
        if pen is not None:
            pen.stop.set()
            pen.join(2)
        app.close()
    records = [r for r in records if r.drawn]  # idle frames (nothing changed) are neither drawn nor presented
    totals = [r.total for r in records]
    intervals = np.diff([r.start for r in records])
    steps = last.result.steps_total - first.result.steps_total
    return {
        "worker": mode,
        "photo": photo,
        "photo_view_updates_per_s": round(photo_updates / elapsed, 2) if photo else None,
        "profiler": profile_dir is not None,
        "frames": len(records),  # drawn
        "fps": round(len(records) / elapsed, 1),
        "frame_ms": summary(totals),
        "interval_ms": summary(intervals),
        "frames_over_16_7ms": int(sum(t > 1 / 60 for t in totals)),
        "stage_ms": {stage: summary(r.stages.get(stage, 0.0) for r in records) for stage in STAGES},
        "latency_ms": summary(latency for r in records for latency in r.latencies),
        "solver_steps_per_s": round(steps / elapsed, 1),
        "pen_events": pen.posted,
        # On screen: the model's start preview, else the engine's first image; then the engine's own.
        "first_image_after_window_s": round((last.preview_at or last.first_image_at) - last.window_opened_at, 3),
        "first_result_after_window_s": round(last.first_image_at - last.window_opened_at, 3),
        "load_average_1min": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "model": last.result.model_name,
        "stand_in": last.result.stand_in,
        "candidates": last.result.candidates,
        "device": last.result.device,
    }


def solver_alone(*, model: str, candidates: int, device: str, seconds: float, threads: int | None) -> float:
    """Steps/s of the solver by itself on the pen's kind of strokes, at the app worker's thread count."""
    import torch

    from demo.bench.solver import demo_constraints
    from demo.engine.checkpoint import load_model
    from demo.engine.device import pick_device
    from demo.engine.solver import ConstraintSolver

    previous = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        torch_device = pick_device(device)
        loaded = load_model(model, device=torch_device)
        solver = ConstraintSolver(loaded, candidates=candidates, device=torch_device)
        solver.set_constraints(demo_constraints(loaded.card.resolution, tools=("color",)))
        solver.step(5)
        steps, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            solver.step(5)
            steps += 5
        return steps / (time.perf_counter() - started)
    finally:
        torch.set_num_threads(previous)


def run(args) -> dict:
    import pygame

    from demo.app.config import AppConfig, worker_threads

    model = args.model or default_model()
    modes = [m.strip() for m in args.workers.split(",") if m.strip()]
    # In-process solvers first: an app with a process worker fixes glibc's thresholds for good, which
    # would slow a solver that later runs in this process (demo/memory.py).
    modes.sort(key=lambda mode: mode == "process")
    results = {"suite": "ui", "window": f"{args.size}x{args.size}", "video_driver": os.environ.get("SDL_VIDEODRIVER", "default"),
               "seconds_per_mode": args.seconds, "gl_threads": args.gl_threads, "target_frame_p95_ms": 16.7, "worker_nice": args.worker_nice,
               "modes": []}
    # The solver alone first, in a process that has run no app (the window fixes glibc's thresholds).
    alone = None
    if args.solver_alone > 0:
        threads = worker_threads(AppConfig())
        alone = solver_alone(model=model, candidates=args.candidates, device=args.device, seconds=args.solver_alone,
                             threads=threads)
        results["solver_alone_steps_per_s"] = round(alone, 1)
        results["solver_alone_threads"] = threads
    profiled = {"off": (False,), "on": (True,), "both": (False, True)}[args.profiler]
    for mode in modes:
        for with_profile in profiled:
            profile_dir = None
            if with_profile:
                import tempfile

                profile_dir = tempfile.mkdtemp(prefix="bench-ui-profile-")
            results["modes"].append(measure(mode, model=model, size=args.size, candidates=args.candidates,
                                            seconds=args.seconds, warmup=args.warmup, pen_hz=args.pen_hz,
                                            device=args.device, seed=args.seed, worker_nice=args.worker_nice,
                                            profile_dir=profile_dir, gl_threads=args.gl_threads, photo=args.photo))
    if alone:
        for entry in results["modes"]:
            entry["in_app_ratio"] = round(entry["solver_steps_per_s"] / alone, 3)
    pygame.display.init()
    pygame.display.quit()
    results["gl_renderer"] = _renderer()
    return results


def _renderer() -> str:
    from demo.gl import create_headless_context

    try:
        ctx = create_headless_context()
    except Exception as exc:  # noqa: BLE001 - only for the report
        return f"unknown ({exc})"
    try:
        return ctx.info["GL_RENDERER"]
    finally:
        ctx.release()
