"""A station's metrics, wired to the app from outside it: a frame listener for ``App(listeners=...)``, the
app's ``status`` for the counters, and the endpoint's server thread (``demo/ops/metrics.py``).

A metrics port that is taken is one line on stderr, and the station runs on without metrics; so does a
listener that fails (one line), since an exhibition must never stop for its monitoring.
"""

from __future__ import annotations

import sys
from typing import Callable

from demo.ops.metrics import StationMetrics, serve
from demo.ops.settings import MetricsSettings


def gl_renderer() -> str:
    """The GL renderer of the window's context (asked on the UI thread, after the window opened)."""
    import moderngl

    try:
        return moderngl.get_context().info.get("GL_RENDERER", "")
    except Exception:  # noqa: BLE001 - an info label is never worth a failure
        return ""


class Operations:
    def __init__(self, metrics: StationMetrics | None = None, server=None):
        self.metrics = metrics
        self.server = server

    @classmethod
    def start(cls, settings: MetricsSettings | None, *, station: str) -> "Operations":
        """Serve the station's metrics when ``settings`` ask for them (None: nothing to do)."""
        if settings is None:
            return cls()
        from demo import __version__

        metrics = StationMetrics(station=station, version=__version__, gl_renderer=gl_renderer)
        server = serve(metrics, host=settings.host, port=settings.port)
        if server is None:
            return cls()
        print(f"metrics: http://{settings.host}:{settings.port}/metrics", file=sys.stderr)
        return cls(metrics, server)

    @property
    def listeners(self) -> list[Callable]:
        return [] if self.metrics is None else [self._frame]

    def watch(self, status: Callable[[], object]) -> None:
        """The app's ``status`` (pass ``app.status``): where the counters come from."""
        if self.metrics is not None:
            self.metrics.watch(status)

    def _frame(self, record) -> None:
        metrics = self.metrics
        if metrics is None:
            return
        try:
            metrics.frame(record)
        except Exception as exc:  # noqa: BLE001 - the kiosk goes on without metrics
            print(f"metrics: stopped ({type(exc).__name__}: {exc}); the station runs on without them", file=sys.stderr)
            self.close()

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        self.metrics = self.server = None
