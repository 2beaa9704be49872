"""Keeping a long-running process's heap from creeping up (glibc's malloc; no-op elsewhere).

glibc serves allocations above its mmap threshold (128 KiB at start) with mmap, returned to the OS on
free, but it raises that threshold, up to 32 MiB, each time such a block is freed. From then on the
app's large, short-lived buffers (results of 100 KB to a few MB, pickled and unpickled every frame)
come from the heap, whose top is given back only past the trim threshold, and fragments. Fixing both
thresholds stops the dynamic adjustment. Measured with ``python -m demo soak`` (kiosk, floods, attract
loop): app + worker grew 11.7 MB over 8 minutes without this, -3.1 MB over 6 minutes with it.

Only for a process that does not run the solver (the window with a process worker): torch's
activations (megabytes, allocated and freed at every step) would then be mapped and unmapped, page
faults and all, at every step. Measured: the solver alone fell from 36 to 22 steps/s at K = 8.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_TRIM_THRESHOLD = -1  # mallopt parameters, from glibc's malloc.h
M_MMAP_THRESHOLD = -3
LARGE = 128 * 1024  # bytes: glibc's default mmap threshold, kept fixed


def keep_heap_compact() -> bool:
    """Fix glibc's mmap and trim thresholds in this process; True if applied (Linux with glibc)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc (musl has no mallopt thresholds to tune)
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, LARGE)) and bool(mallopt(M_TRIM_THRESHOLD, LARGE))
