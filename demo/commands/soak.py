"""``python -m demo soak``: the real app, headless, in kiosk mode, for minutes or hours; memory and frame drift."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

HELP = "soak test: the real app in kiosk mode, headless, driven by a simulated visitor; memory and frame drift"
DESCRIPTION = """\
Run the real app (offscreen window, process worker, kiosk mode) for --minutes while a simulated
visitor paints the bundled sessions through pygame's event queue: it taps colours and tools, draws,
saves every third visit, floods the input with 1000 pointer events per second every fourth, and
leaves idle gaps in turn: past --idle-seconds (the kiosk saves and clears the edit at --reset-seconds,
then the attract loop runs until the next visit's first touch), short, and past --reset-seconds. The
first visit floods and saves and the first gap reaches the attract loop, so every path has run once
within the warm-up.

The report (printed, and written to --json) has rss_mb_start (app + worker, after --warmup seconds),
rss_mb_end and rss_growth_mb, frame_ms_p95_per_minute (drift), cpu_share_per_minute (the app, its
worker and every other program, as shares of the machine: a slow minute on a busy machine is not
drift), errors (engine errors, error notices, exceptions), worker_restarts and frames, with what the visitor and the kiosk did. Pictures go to a
temporary folder unless --save-dir is given. The goal for an exhibition day: growth <= 10 MB, no errors.

examples:
  python -m demo soak --minutes 30 --json out/soak.json
  nohup nice -n 5 python -m demo soak --minutes 30 --json out/soak.json > out/soak.log 2>&1 &
  python -m demo soak --minutes 0.5 --warmup 5 --worker thread      a quick check
"""


def add_arguments(parser) -> None:
    from demo.app.config import DEFAULT_MODEL
    from demo.app.kiosk.config import BUNDLED_SESSIONS

    parser.add_argument("--minutes", type=float, required=True, help="how long to run (e.g. 30; 0.2 for a smoke test)")
    parser.add_argument("--json", type=Path, default=None, metavar="FILE", help="also write the report here")
    parser.add_argument("--warmup", type=float, default=30.0, metavar="S",
                        help="seconds before the first memory sample (rss_mb_start) (default: 30)")
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"model name or path (default: {DEFAULT_MODEL})")
    parser.add_argument("--worker", choices=("process", "thread", "sync"), default="process",
                        help="where the solver runs (default: process, as the app)")
    parser.add_argument("--candidates", type=int, default=None, help="K candidates (default: 8 on CPU, 64 on CUDA)")
    parser.add_argument("--sessions", default=str(BUNDLED_SESSIONS / "attract_*.jsonl"), metavar="GLOB",
                        help="what the visitor paints, and the attract loop plays (default: the bundled attract sessions)")
    parser.add_argument("--idle-seconds", type=float, default=12.0, help="the kiosk's idle_seconds (default: 12)")
    parser.add_argument("--reset-seconds", type=float, default=6.0, help="the kiosk's reset_seconds (default: 6)")
    parser.add_argument("--hang-seconds", type=float, default=10.0, metavar="S",
                        help="the watchdog's hang time, as the app's flag (default: 10)")
    parser.add_argument("--save-dir", type=Path, default=None, help="where pictures go (default: a temporary folder)")
    parser.add_argument("--size", default="1024x768", help="window size (default: 1024x768, the app's)")
    parser.add_argument("--metrics", action="store_true",
                        help="serve the station's metrics on a loopback port, scrape them every 5 s, compare them with the report")
    parser.add_argument("--gallery", action="store_true",
                        help="run the gallery on the save folder with a page open on it (polled every second)")


def run(args) -> int:
    from demo.errors import UserError

    if args.minutes <= 0 or args.warmup < 0 or args.hang_seconds <= 0:
        raise UserError("--minutes and --hang-seconds must be > 0, --warmup >= 0")
    try:
        size = tuple(int(v) for v in args.size.lower().split("x"))
    except ValueError:
        raise UserError(f"--size: expected WIDTHxHEIGHT, got {args.size!r}") from None
    os.environ["SDL_VIDEODRIVER"] = "offscreen"
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    import tempfile

    from demo.app.kiosk.config import KioskConfig
    from demo.app.kiosk.attract import load_attract_sessions

    try:
        kiosk = KioskConfig(idle_seconds=args.idle_seconds, reset_seconds=args.reset_seconds,
                            attract_sessions=args.sessions)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    sessions = load_attract_sessions(kiosk, model=args.model)
    with tempfile.TemporaryDirectory(prefix="igan-soak-") as temporary:
        save_dir = args.save_dir if args.save_dir is not None else Path(temporary)
        report = soak(args, kiosk=kiosk, sessions=sessions, size=size, save_dir=save_dir)
    text = json.dumps(report, indent=2)
    print(text)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
        print(f"wrote {args.json}", file=sys.stderr)
    return 0


def soak(args, *, kiosk, sessions, size, save_dir) -> dict:
    """Run the app until --minutes have passed; the report."""
    import time
    import traceback

    from tqdm import tqdm

    from demo.app.app import App
    from demo.app.config import AppConfig
    from demo.app.kiosk.operations import Operations
    from demo.bench.soak_monitor import SoakMonitor
    from demo.bench.soak_ops import GalleryWatcher, MetricsScraper, free_port
    from demo.bench.soak_visitor import SoakVisitor
    from demo.ops.settings import MetricsSettings

    config = AppConfig(model=args.model, size=size, device=args.device, candidates=args.candidates, seed=args.seed,
                       worker=args.worker, worker_nice=10 if args.worker == "process" else 0, save_dir=save_dir,
                       kiosk=kiosk, attract_sessions=sessions, hud=False, autosave_seconds=5.0,
                       hang_seconds=args.hang_seconds)
    clock = time.perf_counter
    visitor = SoakVisitor(sessions, reset_seconds=kiosk.reset_seconds, idle_seconds=kiosk.idle_seconds)
    monitor = SoakMonitor(clock=clock, warmup=args.warmup, started=clock(), flooding=lambda: visitor.flooding)
    operations = Operations.start(MetricsSettings(port=free_port()) if args.metrics else None, station="soak")
    app = App(config, clock=clock, listeners=[monitor.frame, *operations.listeners])
    operations.watch(app.status)
    scraper = MetricsScraper(operations.server.server_port) if operations.server is not None else None
    gallery = GalleryWatcher(save_dir) if args.gallery else None
    for watcher in (scraper, gallery):
        if watcher is not None:
            watcher.start()
    started = monitor.started = clock()  # the soak's time counts from the open window
    end = started + args.minutes * 60
    try:
        with tqdm(total=round(args.minutes * 60), desc="soak", unit="s", disable=None) as bar:
            while app.status().running:
                now = clock()
                if now >= end:
                    break
                visitor.post_due(app.layout, now)
                try:
                    app.frame()
                except Exception:  # noqa: BLE001 - a soak counts every failure and stops at the first
                    monitor.exception(traceback.format_exc(limit=3).strip().splitlines()[-1])
                    break
                monitor.after_frame(app.status(), clock())
                bar.update(int(clock() - started) - bar.n)
                app.pace()
        seconds_run = clock() - started
        status = app.status()
        monitor.sample(status, clock())  # the last memory sample
        report = monitor.report(status, visitor, seconds_run=seconds_run)
        if scraper is not None:
            scraper.stop.set()
            operations.metrics.copy_counts(status, clock())  # the counters as the report has them, then a last scrape
            scraper.scrape_now()
            agree = scraper.agreement(report)
            report["metrics"] = {"scrapes": scraper.scrapes, "failures": len(scraper.failures),
                                 "failure_messages": scraper.failures[:10], "counters_scraped_vs_report": agree,
                                 "counters_agree": all(a == b for a, b in agree.values()),
                                 "listener_us_per_frame": operations.metrics.cost_us()}
    finally:
        app.close()
        operations.close()
        if gallery is not None:
            report_gallery = gallery.close()
    if gallery is not None:
        report["gallery"] = report_gallery
    report = {"minutes": args.minutes, **report, "model": args.model,
              "goal": {"rss_growth_mb_max": 10, "errors": 0}}
    report["goal"]["met"] = (report["rss_growth_mb"] <= 10 and report["errors"] == 0
                             and report.get("metrics", {}).get("counters_agree", True)
                             and not report.get("metrics", {}).get("failures") and not report.get("gallery", {}).get("failures"))
    return report
