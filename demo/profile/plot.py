"""latency.png: frame-time timeline with the 16.7 ms line, per-stage bars, latency histogram (matplotlib, Agg)."""

from __future__ import annotations

from pathlib import Path

BUDGET_MS = 1000 / 60


def plot_latency(path: Path, *, frames, report: dict, origin: float) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (timeline, stages, histogram) = plt.subplots(3, 1, figsize=(10, 11))
    # Frame times over the run.
    times = [f.start - origin for f in frames]
    timeline.plot(times, [f.total * 1000 for f in frames], lw=0.8, color="#3b7dd8", label="frame (drawn)")
    timeline.axhline(BUDGET_MS, color="#d0443e", ls="--", lw=1, label="16.7 ms (60 Hz)")
    timeline.set(xlabel="seconds since process start", ylabel="ms", title="Frame time")
    timeline.legend(loc="upper right")
    # Per-stage p50 / p95 (UI per frame, worker per step or per chunk).
    names = [name for name, s in report["stages"].items() if s["count"]]
    p50 = [report["stages"][n]["p50"] for n in names]
    p95 = [report["stages"][n]["p95"] for n in names]
    rows = range(len(names))
    stages.barh([r + 0.2 for r in rows], p95, height=0.4, color="#f0a35e", label="p95")
    stages.barh([r - 0.2 for r in rows], p50, height=0.4, color="#3b7dd8", label="p50")
    stages.set_yticks(list(rows), names, fontsize=8)
    stages.invert_yaxis()
    stages.set(xlabel="ms", title="Stages (UI: per frame; worker: per request, step or chunk)")
    stages.legend(loc="lower right")
    # Pen-to-image latency.
    latencies = [(f.ends["present"] - t) * 1000 for f in frames for t in f.shown_inputs]
    if latencies:
        histogram.hist(latencies, bins=40, color="#5aa469")
    lat = report["latency_ms"]
    histogram.set(xlabel="ms", ylabel="inputs",
                  title=f"Pen-to-image latency (p50 {lat['p50']} ms, p95 {lat['p95']} ms, n={lat['count']})")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path
