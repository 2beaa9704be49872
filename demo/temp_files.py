"""Temporary files that are renamed into place as user files (saved pictures, model cards, preview strips).

``tempfile.mkstemp`` makes a file only its owner may read (mode 0600), and a rename keeps the mode, so a
saved picture or a rewritten model card would end up private, unlike any file ``open()`` creates: a
gallery served by another user, or a shared models/ folder, could no longer read it. ``give_plain_mode``
gives the finished temporary file the mode of the file it replaces, else the one ``open()`` would give.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def give_plain_mode(temp: str | Path, *, like: Path | None = None) -> None:
    """Set ``temp``'s mode to ``like``'s (the file it will replace), or to a new file's under the umask."""
    if os.name != "posix":
        return
    try:
        mode = stat.S_IMODE(os.stat(like).st_mode) if like is not None else None
    except FileNotFoundError:
        mode = None
    os.chmod(temp, mode if mode is not None else 0o666 & ~current_umask())


def current_umask() -> int:
    """The process's umask, read without changing it (``os.umask`` can only be read by setting it, which
    would race with files other threads create meanwhile); 0o022 where the kernel does not say."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o022
