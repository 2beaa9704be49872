"""The worker's life ends with the app's: a normal exit, an exception, SIGTERM or SIGKILL of the app,
and an exit while the worker is stuck behind a full pipe. Nothing is left behind (the worker and
multiprocessing's resource tracker), and nothing deadlocks. A stuck worker never blocks the client.

Each case runs a small app in a subprocess: it starts a process worker, waits for its first result,
prints the pids of its child processes (the worker and the resource tracker), then ends as the case says.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from demo.engine.api import EditRequest
from demo.engine.engine import Engine
from demo.engine.worker import AsyncClient

ROOT = Path(__file__).resolve().parents[1]
GONE_WITHIN = 10.0  # generous: the worker notices within 2 s

APP = """
import os, signal, sys, time
import numpy as np
import psutil
from demo.engine.api import EditRequest
from demo.engine.worker import AsyncClient


def main():
    model, ending = sys.argv[1], sys.argv[2]
    client = AsyncClient("process", torch_threads=1)
    client.submit(EditRequest(model=model, device="cpu", candidates=2, steps=0))
    first = client.wait(timeout=300)
    assert first is not None and first.error is None, first
    children = [child.pid for child in psutil.Process().children()]
    print(client.worker_pid, *children, flush=True)
    if ending == "raise":
        raise RuntimeError("the app failed")
    if ending == "stuck":
        # The worker stops reading while requests pile up far beyond a pipe's capacity.
        os.kill(client.worker_pid, signal.SIGSTOP)
        for _ in range(64):
            client.submit(EditRequest(model=model, photo=np.zeros((128, 128, 3), np.uint8), photo_version=1))
            client.poll()
        return
    if ending == "exit":
        return
    time.sleep(600)


if __name__ == "__main__":
    main()
"""


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_gone(pids: list[int]) -> list[int]:
    """The pids still alive after GONE_WITHIN seconds (polled)."""
    deadline = time.monotonic() + GONE_WITHIN
    while time.monotonic() < deadline:
        alive = [pid for pid in pids if not gone(pid)]
        if not alive:
            return []
        time.sleep(0.1)
    return [pid for pid in pids if not gone(pid)]


@pytest.mark.parametrize("ending", ["sigkill", "sigterm", "raise", "exit", "stuck"])
def test_the_worker_ends_with_the_app(tmp_path, small_model_file, ending):
    script = tmp_path / "app.py"
    script.write_text(APP)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    app = subprocess.Popen([sys.executable, str(script), str(small_model_file), ending], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = app.stdout.readline()
        assert line, app.stderr.read()[-3000:]
        worker, *children = (int(pid) for pid in line.split())
        assert worker in children
        if ending in ("sigkill", "sigterm"):
            app.send_signal(signal.SIGKILL if ending == "sigkill" else signal.SIGTERM)
        app.wait(timeout=120)  # Nothing deadlocks at exit.
        assert wait_gone(children) == [], f"left behind: {[psutil.Process(p).cmdline() for p in children if not gone(p)]}"
        if ending == "raise":
            assert "the app failed" in app.stderr.read()
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


WATCHED = """
import multiprocessing as mp, os, sys, time
from demo.engine.lifetime import die_with_parent


def child(parent_pid):
    die_with_parent(parent_pid, kernel=False)
    time.sleep(600)


if __name__ == "__main__":
    worker = mp.get_context("spawn").Process(target=child, args=(os.getpid(),), daemon=True)
    worker.start()
    print(worker.pid, flush=True)
    time.sleep(600)
"""


def test_the_portable_parent_watch_alone_ends_an_orphaned_worker(tmp_path):
    script = tmp_path / "watched.py"
    script.write_text(WATCHED)
    app = subprocess.Popen([sys.executable, str(script)], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        worker = int(app.stdout.readline())
        app.send_signal(signal.SIGKILL)
        app.wait(timeout=60)
        assert wait_gone([worker]) == []
    finally:
        if app.poll() is None:
            app.kill()
            app.wait()


class StuckEngine(Engine):
    """A real engine that blocks until released, as a hung solver would."""

    release = threading.Event()

    def run(self, max_steps=None, *, should_stop=None):
        StuckEngine.release.wait()
        return super().run(max_steps, should_stop=should_stop)


def test_submit_and_poll_return_while_the_worker_is_stuck(small_model_file):
    client = AsyncClient("thread", engine_factory=StuckEngine)
    try:
        base = EditRequest(model=str(small_model_file), device="cpu", candidates=2, steps=0)
        stamps = [client.submit(base) for _ in range(3)]
        assert client.poll() is None and client.alive
        assert stamps == [1, 2, 3]
        StuckEngine.release.set()
        result = client.wait(timeout=120, until=lambda r: r.stamp == 3)
        assert result is not None and result.error is None
    finally:
        StuckEngine.release.set()
        client.close()
