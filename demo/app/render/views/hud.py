"""Frame rate, solver speed and input latency, over the top-left of the canvas."""

from __future__ import annotations

from demo.app.render.painter import Painter


def hud_lines(*, stats, result, latency, worker_mode: str, replay=None) -> list[str]:
    """The HUD's figures: drawn fps and frame p95, solver speed and K, model and device, pen->image latency."""
    lines = [f"{stats.fps():4.0f} fps drawn   frame p95 {stats.percentile(95) * 1000:5.1f} ms"]
    if result is not None:
        speed = 1.0 / result.step_seconds if result.step_seconds > 0 else 0.0
        lines.append(f"solver {speed:4.0f} steps/s  K={result.candidates}  step {result.steps_done} (+{result.steps_left})")
        lines.append(f"{result.model_name}{' (RANDOM stand-in)' if result.stand_in else ''} on {result.device}, "
                     f"{worker_mode} worker")
    if latency.recent:
        lines.append(f"pen->image p50 {latency.percentile(50) * 1000:4.0f} ms  p95 {latency.percentile(95) * 1000:4.0f} ms")
    if replay is not None and not replay.done:
        lines.append(f"replaying {replay.position}/{len(replay.events)} events")
    return lines


class HudView:
    def draw(self, painter: Painter, position: tuple[float, float], lines: list[str]) -> None:
        x, y = position
        width = max((painter.text_size(line, size=18)[0] for line in lines), default=0)
        painter.rect((x, y, width + 12, 18 * len(lines) + 8), (0, 0, 0, 0.55), radius=4)
        for i, line in enumerate(lines):
            painter.text(f"hud.{i}", line, (x + 6, y + 5 + 18 * i), size=18, color=(0.9, 0.95, 0.9, 1))
