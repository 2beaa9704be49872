"""Autosave: the current edit, every few seconds, to ``save_dir/.autosave/``; ``--resume`` replays the newest.

The edit is its session (every event applied since the start, or since the kiosk's last fresh
start), written as ``autosave-<start time>-<pid>.jsonl``, one file per run, replaced atomically
(``demo.safe_files.replace_file``: written beside it, flushed, renamed), so a crash at any moment leaves
the previous complete copy.
Only an edit that changed since the last write is written, by a background thread (a slow disk's
fsync never stalls a frame; only the newest snapshot waits). A failed write (a full disk) becomes
one notice and is retried later; the app carries on. The newest ``KEEP`` files are kept.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from demo.safe_files import TEMP_SUFFIX, remove_orphaned_temps, replace_file
from demo.tools.session import SESSION_VERSION

AUTOSAVE_DIR = ".autosave"
KEEP = 5  # runs whose last state is kept
RETRY_SECONDS = 30.0  # after a failed write


def autosave_dir(save_dir: str | Path) -> Path:
    return Path(save_dir) / AUTOSAVE_DIR


def latest_autosave(save_dir: str | Path) -> Path | None:
    """The newest autosaved session under ``save_dir``, or None."""
    files = sorted(autosave_dir(save_dir).glob("autosave-*.jsonl"), key=lambda p: p.stat().st_mtime)
    return files[-1] if files else None


class Autosave:
    def __init__(self, save_dir: str | Path, *, seconds: float, clock, meta: dict, tell=None, paused=None):
        """``tell(text)`` shows a notice; ``paused()`` is True while nothing should be saved (the attract loop)."""
        self.folder = autosave_dir(save_dir)
        self.seconds = seconds
        self.clock = clock
        self.meta = meta
        self.tell = tell
        self.paused = paused
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.path = self.folder / f"autosave-{stamp}-{os.getpid()}.jsonl"
        self.writes = 0
        self.failures = 0
        self._next = clock() + seconds
        self._written_key: tuple | None = None
        self._failing = False
        self._error: OSError | None = None  # the writer thread's last failure, not yet told
        self._pending: list | None = None  # the newest snapshot waiting for the writer
        self._busy = False
        self._lock = threading.Condition()
        self._thread: threading.Thread | None = None

    def due(self, now: float) -> bool:
        return self.seconds > 0 and now >= self._next

    def maybe_save(self, controller) -> bool:
        """Hand the controller's edit to the writer if it is due and changed; True if it was handed over."""
        self._report_failure()
        now = self.clock()
        if not self.due(now) or (self.paused is not None and self.paused()):
            return False
        self._next = now + self.seconds
        events = controller.events
        key = (len(events), events[-1] if events else None, controller.state.version)
        if key == self._written_key:
            return False
        self._written_key = key
        with self._lock:
            self._pending = list(events)  # a snapshot: the list goes on growing on this thread
            self._lock.notify()
        if self._thread is None:
            self._thread = threading.Thread(target=self._writer, name="igan-autosave", daemon=True)
            self._thread.start()
        return True

    def _report_failure(self) -> None:
        """A write failed since the last frame: one notice (until a write succeeds again), retry later."""
        with self._lock:
            error, self._error = self._error, None
        if error is None:
            return
        self._written_key = None  # the edit is still unsaved
        self._next = self.clock() + RETRY_SECONDS
        if not self._failing and self.tell is not None:
            self.tell(f"autosave failed: {self.folder}: {error.strerror or error}; your picture is not being kept")
        self._failing = True

    def _writer(self) -> None:
        while True:
            with self._lock:
                while self._pending is None:
                    self._lock.wait()
                events, self._pending, self._busy = self._pending, None, True
            try:
                self.write(events)
                self.writes += 1
                self._failing = False
            except OSError as exc:
                self.failures += 1
                with self._lock:
                    self._error = exc
            with self._lock:
                self._busy = False
                self._lock.notify_all()

    def wait(self, timeout: float = 10.0) -> bool:
        """Until the writer has written what it was handed (tests, closing); False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: self._pending is None and not self._busy, timeout=timeout)

    def close(self) -> None:
        """Let a pending write finish (the app is closing; the writer thread is a daemon)."""
        self.wait()
        self._report_failure()

    def write(self, events) -> Path:
        """The session, atomically: a complete copy or the previous one, never half a file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        lines = [json.dumps({"type": "meta", "version": SESSION_VERSION, **self.meta, "autosave": True})]
        lines += [json.dumps(event.to_json()) for event in events]
        replace_file(self.path, "\n".join(lines) + "\n")
        if self.writes == 0:
            self._prune()
        return self.path

    def _prune(self) -> None:
        """Keep the newest KEEP runs' files; remove the temporary files of runs killed while writing (each run
        writes its own name, so no later write of that name would)."""
        remove_orphaned_temps(self.folder, suffix=TEMP_SUFFIX)
        files = sorted(self.folder.glob("autosave-*.jsonl"), key=lambda p: p.stat().st_mtime)
        for old in files[:-KEEP]:
            old.unlink(missing_ok=True)
