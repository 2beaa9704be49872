"""Chrome trace event format (opens in Perfetto and chrome://tracing), built from a recorded run.

Tracks: the UI thread's frames and stages, the worker's spans (its own process in process mode), pen
input instants linked by flow events to the frame that first showed their effect, and counters for
solver steps/s and memory. Times are microseconds since the app's process started.
"""

from __future__ import annotations

UI_TID, WORKER_TID, INPUT_TID, GPU_TID = 1, 2, 3, 4


class TraceBuilder:
    def __init__(self, *, origin: float, ui_pid: int):
        self.origin = origin  # clock time of process start
        self.ui_pid = ui_pid
        self.events: list[dict] = []
        self._named: set[tuple[int, int]] = set()
        self._flow = 0

    def us(self, t: float) -> float:
        return round((t - self.origin) * 1e6, 1)

    def name_track(self, pid: int, tid: int, process: str, thread: str) -> None:
        if (pid, tid) in self._named:
            return
        self._named.add((pid, tid))
        self.events.append({"ph": "M", "name": "process_name", "pid": pid, "tid": tid, "args": {"name": process}})
        self.events.append({"ph": "M", "name": "thread_name", "pid": pid, "tid": tid, "args": {"name": thread}})

    def complete(self, name: str, start: float, end: float, *, pid: int, tid: int, cat: str, args: dict | None = None) -> None:
        event = {"ph": "X", "name": name, "cat": cat, "ts": self.us(start), "dur": round(max(0.0, end - start) * 1e6, 1),
                 "pid": pid, "tid": tid}
        if args:
            event["args"] = args
        self.events.append(event)

    def counter(self, name: str, t: float, values: dict, *, pid: int) -> None:
        self.events.append({"ph": "C", "name": name, "ts": self.us(t), "pid": pid, "args": values})

    def flow(self, name: str, start: float, end: float, *, from_track: tuple[int, int], to_track: tuple[int, int]) -> None:
        """An arrow from the slice at ``start`` on one track to the slice enclosing ``end`` on another."""
        self._flow += 1
        self.events.append({"ph": "s", "name": name, "cat": "latency", "id": self._flow, "ts": self.us(start),
                            "pid": from_track[0], "tid": from_track[1]})
        self.events.append({"ph": "f", "bp": "e", "name": name, "cat": "latency", "id": self._flow, "ts": self.us(end),
                            "pid": to_track[0], "tid": to_track[1]})

    def document(self, metadata: dict) -> dict:
        return {"traceEvents": self.events, "displayTimeUnit": "ms", "otherData": metadata}
