"""What the station's metrics cost the real-time loop: ``bench ui`` with and without them, interleaved.

    python -m demo.ops.bench_metrics --runs 3 --seconds 15 --json out/bench_metrics.json

Each run is a process of its own, alternating (on, off, on, off, ...) so that both sides share the host's
load; a run is ``demo.bench.ui.measure`` for the process worker (a scripted 120 Hz pen). With metrics on,
the app carries the metrics listener (``demo/app/kiosk/operations.py``) and its endpoint is scraped every
5 s, as Prometheus would; the listener's own time per frame, measured in the loop, is reported beside.
``bench ui`` builds its own ``App``, so for a run with metrics it is handed a subclass that adds the
listener (patched in for that run only).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

from demo.ops.report import print_report
from demo.profile.stats import median_range

FIGURES = {
    "latency_ms_p50": lambda run: run["latency_ms"]["p50"],
    "latency_ms_p95": lambda run: run["latency_ms"]["p95"],
    "frame_ms_p50": lambda run: run["frame_ms"]["p50"],
    "frame_ms_p95": lambda run: run["frame_ms"]["p95"],
    "solver_steps_per_s": lambda run: run["solver_steps_per_s"],
}


def one_run(*, metrics: bool, seconds: float, warmup: float) -> dict:
    """``bench ui``'s measurement for the process worker, with or without the metrics listener."""
    from demo.app.app import App
    from demo.app.kiosk.operations import Operations
    from demo.bench import ui
    from demo.bench.soak_ops import MetricsScraper, free_port
    from demo.ops.settings import MetricsSettings

    operations = Operations.start(MetricsSettings(port=free_port()) if metrics else None, station="bench")
    scraper = MetricsScraper(operations.server.server_port) if operations.server is not None else None

    class AppWithMetrics(App):
        def __init__(self, config, **options):
            super().__init__(config, **options, listeners=operations.listeners)
            operations.watch(self.status)

    if scraper is not None:
        scraper.start()
    try:
        with mock.patch("demo.app.app.App", AppWithMetrics):
            result = ui.measure("process", model=ui.default_model(), size=768, candidates=8, seconds=seconds,
                                warmup=warmup, pen_hz=120.0, device="auto", seed=0, worker_nice=10)
        if operations.metrics is not None:
            result["metrics_listener_us_per_frame"] = operations.metrics.cost_us()
            result["scrapes"] = scraper.scrapes
            result["scrape_failures"] = len(scraper.failures)
    finally:
        if scraper is not None:
            scraper.stop.set()
        operations.close()
    result["metrics"] = metrics
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--one", choices=("on", "off"), default=None, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.one is not None:
        print(json.dumps(one_run(metrics=args.one == "on", seconds=args.seconds, warmup=args.warmup)))
        return 0
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy"}
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    for n in range(args.runs):
        for side in ("on", "off"):
            print(f"run {n + 1}/{args.runs}: metrics {side}", file=sys.stderr)
            out = subprocess.run([sys.executable, "-m", "demo.ops.bench_metrics", "--one", side, "--seconds",
                                  str(args.seconds), "--warmup", str(args.warmup)], env=env, capture_output=True,
                                 text=True, check=True)
            runs[side].append(json.loads(out.stdout.strip().splitlines()[-1]))
    summary = {side: {name: median_range(figure(run) for run in runs[side]) for name, figure in FIGURES.items()}
               for side in runs}
    summary["listener_us_per_frame"] = [run["metrics_listener_us_per_frame"] for run in runs["on"]]
    report = {"runs": args.runs, "seconds": args.seconds, "summary": summary, "all": runs}
    print_report(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
