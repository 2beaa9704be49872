"""Writing files safely: whatever stops a write (an error, a full disk, kill -9, a power cut), a reader finds
the old file or the whole new one under its name, never half of one. Used by the app, the engine and the
trainers alike, so it imports nothing heavy.

Every write goes to a hidden temporary file beside its final one (``.LABEL.PID.RANDOM.tmp``: the same
folder, so the same file system), is flushed to disk and only then gets its name, in one of two ways:

- ``replacing(path)`` / ``replace_file(path, data)`` put it in place of ``path`` (autosaves, model files
  and cards, start-preview strips, training checkpoints, the training log);
- ``publish(placements)`` gives a set of new files their names, never replacing an existing file (a saved
  picture with its session and meta files): by a hard link that fails if the name exists, or where the
  file system has no hard links, a rename after checking that the name is free.

The folder is flushed afterwards, so that the new name survives a power cut too. A temporary file that a
killed writer left behind stays hidden, and the next write of the same label removes it once it is old and
its writer's process is gone.

``tempfile.mkstemp`` makes a file only its owner may read (mode 0600), and a rename keeps the mode, so a
saved picture or a rewritten model card would end up private, unlike any file ``open()`` creates: a gallery
served by another user, or a shared models/ folder, could no longer read it. So the finished temporary file
gets the mode of the file it replaces, else the one ``open()`` would give (``give_plain_mode``).
"""

from __future__ import annotations

import errno
import glob
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

TEMP_SUFFIX = ".tmp"
ORPHAN_SECONDS = 600.0  # a temporary file this old whose writer is gone was left by a killed write
NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS)


@contextmanager
def replacing(path: str | Path, *, suffix: str = TEMP_SUFFIX) -> Iterator[str]:
    """A temporary file beside ``path`` for the block to write by name (``suffix`` for writers that choose the
    format by it). When the block ends it is flushed to disk, given the mode of the file it replaces and put
    in place of ``path`` all at once; on any error (or interrupt) it is removed and ``path`` is untouched."""
    path = Path(path)
    temp = new_temp(path.parent, label=path.name, suffix=suffix)
    try:
        yield str(temp)
        sync_file(temp)
        give_plain_mode(temp, like=path)  # after the writer, which may have made the file anew
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    sync_folder(path.parent)


def replace_file(path: str | Path, data: str | bytes) -> Path:
    """Replace ``path`` with ``data`` (text is written as UTF-8) all at once; see ``replacing``."""
    path = Path(path)
    with replacing(path) as temp:
        Path(temp).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def write_new_temp(folder: Path, data: bytes, *, label: str) -> Path:
    """``data`` in a new hidden temporary file in ``folder``, flushed to disk, with a new file's mode (ready for
    ``publish``); removed again if that fails."""
    temp = new_temp(folder, label=label, suffix=TEMP_SUFFIX)
    try:
        temp.write_bytes(data)
        sync_file(temp)
        give_plain_mode(temp)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return temp


def publish(placements: Sequence[tuple[Path, Path]]) -> bool:
    """Give each (temporary file, final name) pair its name, in order, none replacing an existing file, then
    flush the folders. False if a name was taken (by a concurrent writer): the names given so far are taken
    back, so nothing of this set is left under a final name. The caller removes the temporary files."""
    placed: list[Path] = []
    try:
        for temp, target in placements:
            try:
                place_without_overwriting(temp, target)
            except FileExistsError:
                _remove_all(placed)
                return False
            placed.append(target)
        for folder in dict.fromkeys(target.parent for target in placed):
            sync_folder(folder)
    except BaseException:
        _remove_all(placed)
        raise
    return True


def place_without_overwriting(source: Path, target: Path) -> None:
    """Give ``source`` the name ``target`` atomically; FileExistsError if ``target`` exists."""
    try:
        os.link(source, target)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in NO_HARD_LINKS:
            raise
        # No hard links here (FAT, some network shares): rename, after checking the name is free.
        if target.exists():
            raise FileExistsError(errno.EEXIST, "exists", str(target)) from None
        os.rename(source, target)


def new_temp(folder: Path, *, label: str, suffix: str) -> Path:
    """A new empty hidden file in ``folder`` named after ``label`` and this process (orphans of earlier
    killed writes of ``label`` are removed first)."""
    remove_orphaned_temps(folder, label=label, suffix=suffix)
    handle, name = tempfile.mkstemp(dir=folder, prefix=f".{label}.{os.getpid()}.", suffix=suffix)
    os.close(handle)
    return Path(name)


def remove_orphaned_temps(folder: Path, *, suffix: str, label: str | None = None) -> None:
    """Remove the temporary files of ``label`` (of any name when None) in ``folder`` that are older than
    ORPHAN_SECONDS and whose writing process is gone (on this machine: a writer elsewhere sharing the folder
    keeps its file while it is young)."""
    if not suffix or os.name != "posix":
        return
    for temp in folder.glob(".*" + glob.escape(suffix)):
        writer = _temp_writer(temp.name, suffix=suffix)
        if writer and label in (None, writer[0]) and _is_old(temp) and not _process_alive(writer[1]):
            temp.unlink(missing_ok=True)


def sync_file(path: str | Path) -> None:
    """Flush ``path``'s data to disk."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def sync_folder(folder: Path) -> None:
    """Flush the folder's entries, so new names survive a power cut (where the OS allows it)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass  # Some file systems cannot fsync a folder; the files themselves are synced.
    finally:
        os.close(descriptor)


def give_plain_mode(temp: str | Path, *, like: str | Path | None = None) -> None:
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


def _remove_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _temp_writer(name: str, *, suffix: str) -> tuple[str, int] | None:
    """The label and the writer's process id in a temporary file's name ``.LABEL.PID.RANDOM<suffix>`` (only
    LABEL may hold dots), or None for another name."""
    parts = name[: -len(suffix)].rsplit(".", 2)
    if len(parts) != 3 or not parts[0].startswith(".") or not parts[1].isdigit():
        return None
    return parts[0][1:], int(parts[1])


def _is_old(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime > ORPHAN_SECONDS
    except FileNotFoundError:
        return False


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's
    return True
