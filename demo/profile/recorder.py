"""Records a run of the app loop and writes its profile: report.json, trace.json, frames.csv, latency.png.

The app hands the recorder every frame record (``frame``), every engine result it polled (``result``)
and its start-up moments. Recording is cheap (a few appends per frame, memory sampled 4 times a
second), so a profiled run behaves like an unprofiled one; everything is written at ``close``.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

from demo.app.loop.timing import STAGES, FrameRecord
from demo.engine.api import PER_STEP_STAGES, STEP
from demo.profile.stats import latency_summary, summary
from demo.profile.trace import GPU_TID, INPUT_TID, UI_TID, WORKER_TID, TraceBuilder

MEMORY_PERIOD = 0.25  # seconds between memory samples


@dataclass(frozen=True)
class PolledResult:
    """What the profile keeps of an engine result (no images)."""

    stamp: int
    polled_at: float
    finished_at: float
    steps_done: int
    chunk_steps: int
    steps_total: int
    timings: dict
    spans: tuple
    worker_pid: int
    worker_rss_mb: float
    device: str
    model: str
    candidates: int
    error: bool


def process_start(clock=time.perf_counter) -> float:
    """This process's start on ``clock``'s time line."""
    import psutil

    return clock() - (time.time() - psutil.Process().create_time())


def machine() -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model, "cores": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "load_average_1min": round(os.getloadavg()[0], 2)}


class ProfileRecorder:
    def __init__(self, out: str | Path, *, worker_mode: str, clock=time.perf_counter, settings: dict | None = None):
        import psutil

        self.out = Path(out)
        self.clock = clock
        self.worker_mode = worker_mode
        self.settings = dict(settings or {})
        self.origin = process_start(clock)
        self.ui_pid = os.getpid()
        self._process = psutil.Process()
        self.frames: list[FrameRecord] = []
        self.results: list[PolledResult] = []
        self.memory: list[tuple[float, float, float | None]] = []  # (t, ui MB, worker MB)
        self.window_at: float | None = None
        self.first_image_at: float | None = None  # the engine's first image
        self.preview_at: float | None = None
        self.gl_renderer = ""
        self._next_memory = 0.0
        self.written: dict[str, Path] = {}
        self.report_written: dict | None = None

    @classmethod
    def for_app(cls, config, *, clock) -> "ProfileRecorder":
        """The recorder of an app run with ``--profile DIR`` (``config`` is its AppConfig)."""
        return cls(config.profile, worker_mode=config.worker, clock=clock,
                   settings={"model": config.model, "size": list(config.size), "seed": config.seed})

    # Fed by the app.
    def window_opened(self, t: float, *, gl_renderer: str = "") -> None:
        self.window_at = t
        self.gl_renderer = gl_renderer

    def preview_shown(self, t: float) -> None:
        """The model's start preview reached the screen (before the engine's first image)."""
        if self.preview_at is None:
            self.preview_at = t

    def first_image(self, t: float) -> None:
        if self.first_image_at is None:
            self.first_image_at = t

    def startup_mark(self, mark: str, t: float) -> None:
        """A StartupMarks listener: "preview" or "first_image" reached the screen at ``t``."""
        (self.preview_shown if mark == "preview" else self.first_image)(t)

    def frame(self, record: FrameRecord) -> None:
        self.frames.append(record)
        if record.start >= self._next_memory:
            self._next_memory = record.start + MEMORY_PERIOD
            worker = self.results[-1].worker_rss_mb if self.results and self.worker_mode == "process" else None
            self.memory.append((record.start, self._process.memory_info().rss / 2**20, worker))

    def result(self, result, polled_at: float) -> None:
        self.results.append(PolledResult(
            stamp=result.stamp, polled_at=polled_at, finished_at=result.finished_at, steps_done=result.steps_done,
            chunk_steps=result.chunk_steps, steps_total=result.steps_total, timings=dict(result.timings),
            spans=tuple(result.spans), worker_pid=result.worker_pid, worker_rss_mb=result.worker_rss_mb,
            device=result.device, model=result.model_name, candidates=result.candidates, error=result.error is not None))

    # Figures.
    def _measured(self) -> tuple[list[FrameRecord], list[PolledResult]]:
        """Frames and results from the first generated image on (start-up is reported on its own)."""
        since = self.first_image_at if self.first_image_at is not None else float("-inf")
        return [f for f in self.frames if f.start >= since], [r for r in self.results if r.polled_at >= since and not r.error]

    def solver_steps_per_s(self) -> float | None:
        _, results = self._measured()
        if len(results) < 2:
            return None
        span = results[-1].finished_at - results[0].finished_at
        return round((results[-1].steps_total - results[0].steps_total) / span, 2) if span > 0 else None

    def worker_stages(self, results: list[PolledResult]) -> dict:
        """Per request (queue wait, rasterise), per step (forward, backward, Adam) and per chunk (the rest)."""
        stages: dict[str, list[float]] = {}
        for r in results:
            steps = max(1, r.chunk_steps)
            for name, seconds in r.timings.items():
                per_step = name in PER_STEP_STAGES
                if per_step and not r.chunk_steps:
                    continue
                stages.setdefault(name, []).append(seconds / steps if per_step else seconds)
            stages.setdefault("handoff", []).append(max(0.0, r.polled_at - r.finished_at))
        return {name: summary(values) for name, values in sorted(stages.items())}

    def report(self) -> dict:
        frames, results = self._measured()
        drawn = [f for f in frames if f.drawn]
        latencies = [latency for f in drawn for latency in f.latencies]
        last = results[-1] if results else None
        seconds = (frames[-1].start - frames[0].start) if len(frames) > 1 else 0.0
        return {
            "frames": len(drawn),
            "idle_frames": len(frames) - len(drawn),
            "seconds": round(seconds, 3),
            "frame_ms": summary(f.total for f in drawn),
            "stages": {**{stage: summary(f.stages.get(stage, 0.0) for f in drawn) for stage in STAGES},
                       **self.worker_stages(results)},
            "latency_ms": latency_summary(latencies),
            "solver_steps_per_s": self.solver_steps_per_s(),
            "startup": {
                "window_s": None if self.window_at is None else round(self.window_at - self.origin, 3),
                # The first image on screen: the start preview, else the engine's first result.
                "first_image_s": _since(self.origin, self.preview_at, self.first_image_at),
                "first_result_s": _since(self.origin, self.first_image_at),
            },
            "device": None if last is None else last.device,
            "model": None if last is None else last.model,
            "candidates": None if last is None else last.candidates,
            "worker": self.worker_mode,
            "gl_renderer": self.gl_renderer,
            "machine": machine(),
            "settings": self.settings,
        }

    # Files.
    def trace(self) -> dict:
        builder = TraceBuilder(origin=self.origin, ui_pid=self.ui_pid)
        ui = (self.ui_pid, UI_TID)
        builder.name_track(*ui, "iGAN Live (UI)", "UI thread")
        pen = (self.ui_pid, INPUT_TID)
        builder.name_track(*pen, "iGAN Live (UI)", "pen input")
        for frame in self.frames:
            if not frame.drawn:
                continue
            builder.complete("frame", frame.start, frame.ends["present"], pid=ui[0], tid=ui[1], cat="frame",
                             args={"index": frame.index, "steps_done": frame.steps_done})
            begin = frame.start
            for stage in STAGES:
                end = frame.ends.get(stage, begin)
                builder.complete(stage, begin, end, pid=ui[0], tid=ui[1], cat="stage")
                begin = end
            for t in frame.shown_inputs:
                builder.complete("pen event", t, t + 1e-6, pid=pen[0], tid=pen[1], cat="input")
                builder.flow("pen -> image", t, frame.ends["present"] - 1e-6, from_track=pen, to_track=ui)
        for r in self.results:
            worker = (r.worker_pid, WORKER_TID) if r.worker_pid != self.ui_pid else (self.ui_pid, WORKER_TID)
            builder.name_track(*worker, "iGAN Live (worker)" if worker[0] != self.ui_pid else "iGAN Live (UI)",
                               f"solver worker ({self.worker_mode})")
            for name, start, end in r.spans:
                track = (worker[0], GPU_TID) if name.startswith("gpu.") else worker
                if track[1] == GPU_TID:
                    builder.name_track(*track, "iGAN Live (worker)", "GPU (CUDA events)")
                builder.complete(name, start, end, pid=track[0], tid=track[1], cat="worker",
                                 args={"stamp": r.stamp} if name == STEP else None)
            builder.complete("handoff", r.finished_at, r.polled_at, pid=ui[0], tid=WORKER_TID + 10, cat="handoff",
                             args={"stamp": r.stamp})
        builder.name_track(self.ui_pid, WORKER_TID + 10, "iGAN Live (UI)", "result hand-off (worker -> UI)")
        previous = None
        for r in self.results:
            if previous is not None and r.finished_at > previous.finished_at:
                rate = (r.steps_total - previous.steps_total) / (r.finished_at - previous.finished_at)
                builder.counter("solver steps/s", r.finished_at, {"steps_per_s": round(max(0.0, rate), 1)}, pid=self.ui_pid)
            previous = r
        for t, ui_mb, worker_mb in self.memory:
            values = {"ui_mb": round(ui_mb, 1)} if worker_mb is None else {"ui_mb": round(ui_mb, 1), "worker_mb": round(worker_mb, 1)}
            builder.counter("memory MB", t, values, pid=self.ui_pid)
        return builder.document({"worker": self.worker_mode, "gl_renderer": self.gl_renderer, **self.settings})

    def write_frames_csv(self, path: Path) -> None:
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["frame", "time_s", "drawn", "frame_ms", *(f"{s}_ms" for s in STAGES), "steps_done", "latency_ms"])
            for f in self.frames:
                latency = ";".join(f"{latency * 1000:.2f}" for latency in f.latencies)
                writer.writerow([f.index, f"{f.start - self.origin:.6f}", int(f.drawn), f"{f.total * 1000:.3f}",
                                 *(f"{f.stages.get(s, 0.0) * 1000:.3f}" for s in STAGES), f.steps_done, latency])

    def close(self) -> dict[str, Path]:
        """Write every file; their paths by kind."""
        from demo.profile.plot import plot_latency

        self.out.mkdir(parents=True, exist_ok=True)
        report = self.report()
        paths = {"report": self.out / "report.json", "trace": self.out / "trace.json",
                 "frames": self.out / "frames.csv", "plot": self.out / "latency.png"}
        paths["report"].write_text(json.dumps(report, indent=2) + "\n")
        paths["trace"].write_text(json.dumps(self.trace()))
        self.write_frames_csv(paths["frames"])
        frames, _ = self._measured()
        plot_latency(paths["plot"], frames=[f for f in frames if f.drawn], report=report, origin=self.origin)
        self.written, self.report_written = paths, report
        return paths


def _since(origin: float, *times: float | None) -> float | None:
    """Seconds from ``origin`` to the first of ``times`` that happened (None if none did)."""
    happened = [t for t in times if t is not None]
    return round(happened[0] - origin, 3) if happened else None
