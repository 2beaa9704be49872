"""Replacing a checkpoint file (card, model, preview strip) all at once, so a reader never sees half of one."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from demo.temp_files import give_plain_mode


@contextmanager
def replacing(path: Path, *, suffix: str = ".tmp") -> Iterator[str]:
    """A temporary file beside ``path`` to write; it replaces ``path`` (keeping its mode) when the block ends, and
    is removed on error."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
    os.close(handle)
    try:
        yield temp
        give_plain_mode(temp, like=path)  # after the writer, which may have made the file anew
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
