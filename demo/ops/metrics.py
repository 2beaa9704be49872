"""Prometheus metrics of one station, served with ``prometheus_client`` from a thread of its own.

The UI thread pays only for ``frame`` (a frame-loop listener): two histogram observations and, four times
a second, a copy of the app's counters (``AppStatus``: the watchdog's restarts, the kiosk's counts, the
solver's step counter). Everything else happens when Prometheus scrapes, on the server's thread: resident
memory of the app and its worker (psutil), uptime, and the counters copied last. Nothing grows with the
day: histograms have fixed buckets, the listener's own cost is kept in a bounded window.
"""

from __future__ import annotations

import collections
import os
import sys
import time
from collections.abc import Callable
from types import MappingProxyType

from prometheus_client import CollectorRegistry, Histogram, Info
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

FRAME_BUCKETS = (0.004, 0.008, 0.012, 0.0167, 0.020, 0.025, 0.033, 0.050, 0.100, 0.250, 1.0)
LATENCY_BUCKETS = (0.025, 0.050, 0.075, 0.100, 0.150, 0.200, 0.300, 0.500, 1.0, 2.0)
STATUS_SECONDS = 0.25  # how often the listener copies the app's counters
RATE_SECONDS = 5.0  # solver steps/s is measured over this window
COST_WINDOW = 4096  # the listener's own cost: the last this many frames


# The counters a scrape reports: metric name, help text, key in the copied counts.
COUNTERS = (
    ("igan_frames", "Frames run", "frames"),
    ("igan_errors", "Engine errors and error notices shown", "errors"),
    ("igan_worker_restarts", "Solver worker restarts by the watchdog", "worker_restarts"),
    ("igan_solver_steps", "Solver steps run (across worker restarts)", "solver_steps"),
    ("igan_visits", "Visits: a wake after the attract loop or a reset, to the next reset", "visits"),
    ("igan_strokes", "Strokes painted by visitors", "strokes"),
    ("igan_resets", "Unattended edits cleared", "resets"),
    ("igan_attract_rounds", "Attract-loop pictures played", "attract_rounds"),
)
KIOSK_COUNTS = ("visits", "strokes", "saves", "unattended_saves", "resets", "attract_rounds")


class StationMetrics:
    def __init__(self, *, station: str, version: str, gl_renderer: Callable[[], str] = lambda: "",
                 clock: Callable[[], float] = time.monotonic):
        """``gl_renderer()`` is asked once, on the UI thread, when the first result arrives."""
        self.clock = clock
        self.started = clock()
        self.station, self.version, self.gl_renderer = station, version, gl_renderer
        self.registry = CollectorRegistry(auto_describe=True)
        self.frame_seconds = Histogram("igan_frame_seconds", "Time of each drawn frame on the UI thread",
                                       buckets=FRAME_BUCKETS, registry=self.registry)
        self.latency = Histogram("igan_pen_to_image_seconds", "From an input to the first frame that shows its result",
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.info = Info("igan_station", "The station: model, version, device, GL renderer", registry=self.registry)
        self.info.info({"station": station, "version": version, "model": "", "device": "", "gl_renderer": ""})
        self.registry.register(_CountsCollector(self))
        # The app's counters as last copied on the UI thread, read by the scrape thread (0 until copied).
        self.counts: MappingProxyType = MappingProxyType({})
        self.status: Callable[[], object] | None = None
        self.costs: collections.deque[float] = collections.deque(maxlen=COST_WINDOW)
        self._next_status = 0.0
        self._steps: collections.deque[tuple[float, int]] = collections.deque()
        self._last_steps_total = 0
        self._last_error: str | None = None
        self._last_notice = None
        self._told = False

    def watch(self, status: Callable[[], object]) -> None:
        """Where the counters come from: the app's ``status`` (an ``AppStatus`` snapshot)."""
        self.status = status

    def frame(self, record) -> None:
        """A frame-loop listener: observe the frame and its latencies; copy the counters when due."""
        began = time.perf_counter()
        if record.drawn and not record.overlay_only:
            self.frame_seconds.observe(record.total)
        for latency in record.latencies:
            self.latency.observe(latency)
        now = record.start  # the app's clock
        if self.status is not None and now >= self._next_status:
            self._next_status = now + STATUS_SECONDS
            self.copy_counts(self.status(), now)
        self.costs.append(time.perf_counter() - began)

    def copy_counts(self, status, now: float) -> None:
        """The counters of an ``AppStatus``: errors counted as the soak counts them, steps kept monotonic
        across worker restarts (each restart begins again at 0)."""
        errors = self.counts.get("errors", 0)
        if status.error and status.error != self._last_error:
            errors += 1
        self._last_error = status.error
        notice = status.notice
        if notice is not None and notice is not self._last_notice and notice.kind == "error":
            errors += 1
        self._last_notice = notice
        result = status.result
        steps, steps_per_second, pid = self.counts.get("solver_steps", 0), 0.0, self.counts.get("worker_pid", 0)
        if result is not None:
            total = result.steps_total
            steps += total - self._last_steps_total if total >= self._last_steps_total else total
            self._last_steps_total, pid = total, result.worker_pid
            if not self._told:
                self._told = True
                self.info.info({"station": self.station, "version": self.version, "model": result.model_name,
                                "device": result.device, "gl_renderer": self.gl_renderer()})
        self._steps.append((now, steps))
        while now - self._steps[0][0] > RATE_SECONDS:
            self._steps.popleft()
        first_at, first_steps = self._steps[0]
        if now > first_at:
            steps_per_second = (steps - first_steps) / (now - first_at)
        kiosk = status.kiosk
        visitors = {} if kiosk is None else {key: getattr(kiosk, key) for key in KIOSK_COUNTS}
        # One assignment of a new copy: the scrape thread sees the old copy or the new one.
        self.counts = MappingProxyType({
            "frames": status.frames, "errors": errors, "worker_restarts": status.solver_restarts,
            "solver_steps": steps, "steps_per_second": steps_per_second, "worker_pid": pid, **visitors})

    def cost_us(self) -> dict:
        """The listener's own time per frame over the last frames: mean, p50, p95, max (microseconds)."""
        import numpy as np

        costs = np.array(self.costs) * 1e6
        if not len(costs):
            return {"frames": 0}
        return {"frames": len(costs), "mean": round(float(costs.mean()), 1), "p50": round(float(np.percentile(costs, 50)), 1),
                "p95": round(float(np.percentile(costs, 95)), 1), "max": round(float(costs.max()), 1)}


class _CountsCollector:
    """Turns the last copied counters, memory and uptime into metric families at scrape time."""

    def __init__(self, metrics: StationMetrics):
        self.metrics = metrics

    def describe(self):
        return []

    def collect(self):
        counts, metrics = self.metrics.counts, self.metrics
        for name, text, key in COUNTERS:
            yield CounterMetricFamily(name, text, value=counts.get(key, 0))
        saves = CounterMetricFamily("igan_saves", "Pictures saved", labels=["kind"])
        saves.add_metric(["visitor"], counts.get("saves", 0))
        saves.add_metric(["unattended"], counts.get("unattended_saves", 0))
        yield saves
        yield GaugeMetricFamily("igan_solver_steps_per_second", f"Solver steps/s over the last {RATE_SECONDS:g} s",
                                value=counts.get("steps_per_second", 0.0))
        yield GaugeMetricFamily("igan_uptime_seconds", "Seconds since the station started",
                                value=metrics.clock() - metrics.started)
        memory = GaugeMetricFamily("igan_resident_memory_bytes", "Resident memory", labels=["process"])
        for process, pid in (("app", os.getpid()), ("worker", counts.get("worker_pid", 0))):
            rss = _rss(pid) if pid and (process == "app" or pid != os.getpid()) else None
            if rss is not None:
                memory.add_metric([process], rss)
        yield memory


def _rss(pid: int) -> int | None:
    import psutil

    try:
        return psutil.Process(pid).memory_info().rss
    except (psutil.Error, OSError):
        return None


def serve(metrics: StationMetrics, *, host: str, port: int):
    """Serve ``metrics`` on http://host:port/metrics from a daemon thread; the server (``shutdown()`` stops it),
    or None and one line on stderr when the port cannot be had (the station runs on without metrics)."""
    from prometheus_client import start_http_server

    try:
        server, _thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        print(f"metrics: cannot serve on {host}:{port} ({exc.strerror or exc}); running without metrics",
              file=sys.stderr)
        return None
    return server
