"""The live profile overlay (toggled with G): a frame-time graph and per-stage bars over the canvas."""

from __future__ import annotations

import numpy as np

from demo.app.render.painter import Painter, Rect
from demo.app.loop.timing import STAGE_COLORS, STAGES, FrameRecord

BUDGET_MS = 1000 / 60
SCALE_MS = 2.5 * BUDGET_MS  # the graph's full height
BARS = 90


class ProfileGraphView:
    def draw(self, painter: Painter, canvas: Rect, records: list[FrameRecord]) -> None:
        cx, cy, cw, ch = canvas
        height = min(150.0, 0.3 * ch)
        x, y, w = cx + 6, cy + ch - height - 6, cw - 12
        painter.rect((x, y, w, height), (0, 0, 0, 0.6), radius=4)
        recent = records[-BARS:]
        # Frame times, newest at the right; red above the 60 Hz budget.
        graph_w, graph_h = 0.62 * w, height - 28
        bar = graph_w / BARS
        for i, record in enumerate(recent):
            ms = record.total * 1000
            h = min(graph_h, graph_h * ms / SCALE_MS)
            color = (0.95, 0.35, 0.3, 0.95) if ms > BUDGET_MS else (0.45, 0.85, 0.5, 0.95)
            painter.rect((x + 4 + (BARS - len(recent) + i) * bar, y + 22 + graph_h - h, max(1.0, bar - 1), h), color)
        budget_y = y + 22 + graph_h - graph_h * BUDGET_MS / SCALE_MS
        painter.rect((x + 4, budget_y, graph_w, 1.0), (1, 1, 1, 0.8))
        totals = [r.total * 1000 for r in recent] or [0.0]
        painter.text("profile.title", f"frame p50 {np.percentile(totals, 50):4.1f}  p95 {np.percentile(totals, 95):4.1f} ms"
                     f"  (line: 16.7 ms)", (x + 6, y + 3), size=16, color=(1, 1, 1, 1))
        # Per-stage median, as bars.
        sx, sw = x + graph_w + 14, w - graph_w - 20
        row = (height - 8) / len(STAGES)
        for i, stage in enumerate(STAGES):
            ms = float(np.median([r.stages.get(stage, 0.0) for r in recent])) * 1000 if recent else 0.0
            length = min(sw - 70, (sw - 70) * ms / BUDGET_MS)
            top = y + 4 + i * row
            painter.rect((sx + 70, top + 2, max(1.0, length), row - 4), STAGE_COLORS[stage])
            painter.text(f"profile.stage.{stage}", f"{stage} {ms:3.1f}", (sx, top), size=14, color=(0.95, 0.95, 0.95, 1))
