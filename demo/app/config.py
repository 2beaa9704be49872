"""Everything the app is started with (from the CLI or a test/benchmark)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from demo.app.kiosk.config import KioskConfig
from demo.tools.session import Session

DEFAULT_MODEL = "landscape64"


@dataclass(frozen=True, kw_only=True)
class AppConfig:
    model: str = DEFAULT_MODEL
    photo: Path | None = None
    fullscreen: bool = False
    size: tuple[int, int] = (1024, 768)
    device: str = "auto"
    candidates: int | None = None  # None: the engine's default (8 on CPU, 64 on CUDA)
    seed: int = 0
    record: Path | None = None
    replay: Path | None = None  # a session fed at stroke boundaries, waiting for the solver (deterministic)
    feed: Path | None = None  # a session fed in real time through the input path, never waiting (profile)
    exit_after_frames: int | None = None  # counted from the first generated image shown
    exit_after_seconds: float | None = None
    exit_when_done: bool = False  # exit once a replay is fed and the solver has settled
    screenshot: Path | None = None  # written when the app exits
    worker: str = "process"  # process | thread | sync
    torch_threads: int | None = None  # the worker's torch threads (None: see worker_threads)
    worker_nice: int = 10  # lowers a process worker's OS priority so the window wins the CPU (measured: docs/app.md)
    gl_threads: int | None = None  # llvmpipe's render threads (LP_NUM_THREADS; None: Mesa's default, one per core)
    max_fps: float = 60.0  # frame cap where vsync is unavailable (offscreen); 0: uncapped
    steps: int = 40  # solver steps after each edit (iGAN: 40)
    top_k: int = 8  # thumbnails shown
    chunk_seconds: float = 1 / 60  # engine publishes a result about this often while it works
    morph_frames: int = 16
    display: bool = True  # show settled images (and the morph) through the x4 display upsampler
    save_dir: Path = Path("saves")
    hud: bool = True
    hang_seconds: float = 10.0  # no result for this long while work is pending: the worker is restarted
    profile: Path | None = None  # write a latency profile of this run here (report.json, trace.json, ...)
    # Exhibition (docs/exhibition.md): kiosk mode when set; the edit autosaved to save_dir/.autosave/ (0: never).
    kiosk: KioskConfig | None = None
    attract_sessions: Sequence[Session] | None = None  # the kiosk's, loaded by the command (None: the kiosk loads them)
    autosave_seconds: float = 0.0  # the app's command line asks for 5


def worker_threads(config: AppConfig) -> int | None:
    """Torch threads for the worker: on a small CPU leave a core to the window (2 cores: 1 thread)."""
    if config.torch_threads is not None:
        return config.torch_threads
    cores = os.cpu_count() or 1
    return max(1, cores - 1) if cores <= 4 else None


def start_worker(config: AppConfig):
    """The app's engine client, its worker started at once: torch loads while the window opens.

    Make it on the thread that runs the app (a process worker dies with the thread that made it).
    """
    from demo.engine.worker import make_client

    return make_client(config.worker, torch_threads=worker_threads(config), nice=config.worker_nice)
