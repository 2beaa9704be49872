"""Summary statistics in milliseconds (numpy only)."""

from __future__ import annotations

import statistics

import numpy as np


def summary(seconds) -> dict:
    """{count, mean, p50, p95, p99, max} in ms of a list of durations in seconds (None when empty)."""
    values = np.asarray(list(seconds), np.float64) * 1000.0
    if not len(values):
        return {"count": 0, "mean": None, "p50": None, "p95": None, "p99": None, "max": None}
    return {"count": int(len(values)), "mean": round(float(values.mean()), 3),
            **{f"p{q}": round(float(np.percentile(values, q)), 3) for q in (50, 95, 99)},
            "max": round(float(values.max()), 3)}


def latency_summary(seconds) -> dict:
    full = summary(seconds)
    return {"count": full["count"], "p50": full["p50"], "p95": full["p95"], "max": full["max"]}


def median_range(values) -> dict:
    """{median, range: [min, max]} of a few runs' figures: how the project quotes a benchmark."""
    values = list(values)
    return {"median": statistics.median(values), "range": [min(values), max(values)]}
