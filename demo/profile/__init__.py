"""Latency profiling of the real-time loop: record a run, write report.json, trace.json, frames.csv, latency.png.

No GL and no torch here: the recorder is handed frame records and engine results by the app.
"""
