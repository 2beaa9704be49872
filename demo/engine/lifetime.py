"""A worker process never outlives the app that started it.

On Linux the kernel kills the worker when its parent dies, however it dies (``PR_SET_PDEATHSIG``;
note that it fires when the parent *thread* that started the worker ends, so clients are made on
a thread that lives as long as the app, as the main thread does). Everywhere, a watcher thread in
the worker exits within ``PARENT_CHECK_SECONDS`` of the parent going away.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import threading
import time

PARENT_CHECK_SECONDS = 0.5


def die_with_parent(parent_pid: int, *, kernel: bool = True) -> None:
    """Exit when the parent process goes away, however it ends (SIGKILL included).

    ``kernel=False`` leaves out the Linux signal, so that tests can check the portable watcher alone.
    """
    if kernel and sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        try:
            ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass  # The watcher below still covers it.
    if os.getppid() != parent_pid:
        os._exit(1)  # The parent died before the signal was armed.
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="parent-watch").start()


def _watch_parent(parent_pid: int) -> None:
    parent = mp.parent_process()  # its sentinel becomes ready when the parent dies (any platform)
    while True:
        if parent is not None:
            parent.join(PARENT_CHECK_SECONDS)
        else:
            time.sleep(PARENT_CHECK_SECONDS)
        if os.getppid() != parent_pid or (parent is not None and not parent.is_alive()):
            os._exit(1)


def lower_priority(nice: int) -> None:
    """Raise every thread's niceness by ``nice`` (on Linux niceness is per thread, and torch has a pool)."""
    tasks = f"/proc/{os.getpid()}/task"
    if not os.path.isdir(tasks):
        os.nice(nice)
        return
    for tid in os.listdir(tasks):
        try:
            os.setpriority(os.PRIO_PROCESS, int(tid), min(19, os.getpriority(os.PRIO_PROCESS, int(tid)) + nice))
        except (OSError, ValueError):
            pass  # A thread that ended meanwhile.
