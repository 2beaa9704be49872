"""The heap setting that keeps an all-day app from creeping up (demo/memory.py), on this Linux/glibc."""

from __future__ import annotations

import ctypes
import subprocess
import sys

from demo.memory import keep_heap_compact


def test_large_buffers_go_back_to_the_os_once_freed_even_after_many_were():
    """With glibc's dynamic threshold, freeing a 1 MB block makes later 1 MB blocks heap memory that stays
    resident; with the threshold fixed, each is mmapped and returned."""
    script = """
import ctypes, sys
from demo.memory import keep_heap_compact
if sys.argv[1] == "fixed":
    assert keep_heap_compact()
libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
libc.free(libc.malloc(1 << 20))  # one large block freed: glibc raises its mmap threshold unless fixed
before = rss_mb()
blocks, kept = [], []
for _ in range(64):  # 64 MB of short-lived buffers, each followed by a smaller one that lives on
    blocks.append(libc.malloc(1 << 20))
    ctypes.memset(blocks[-1], 1, 1 << 20)
    kept.append(libc.malloc(100_000))  # from the heap's top either way (under 128 KiB), so it pins what is below
for b in blocks:
    libc.free(b)
print(rss_mb() - before)
"""
    grown = {mode: float(subprocess.run([sys.executable, "-c", script, mode], capture_output=True, text=True,
                                        check=True).stdout) for mode in ("dynamic", "fixed")}
    assert grown["dynamic"] > 32  # the freed buffers stayed resident
    assert grown["fixed"] < 8  # they went back to the OS


def test_it_applies_here():
    assert keep_heap_compact()
    assert ctypes.CDLL("libc.so.6").mallopt  # glibc, as CI runs it
