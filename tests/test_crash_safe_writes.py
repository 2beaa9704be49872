"""Writers killed mid-write (SIGKILL, in a real child process) leave the previous file whole, and a save
leaves nothing torn under a final name.

Each test runs a child (``python -c``, importing this module) that writes a good version through the
project's own code, then hooks the step that puts the next version's bytes on disk so that it writes half
of them, says INSIDE on its stdout and waits; the parent kills it there with SIGKILL and checks the files
with the project's own loaders. Each kind runs twice: with the project's writers ("safe"), and as a
negative control with the safe primitive in the module under test swapped for a naive one that writes
straight to the final name ("naive"), which must leave a torn file: the check is shown to catch one.

Temporary files: a killed safe write leaves its hidden temporary file (``.NAME.PID.RANDOM.tmp``) beside the
final one. Loaders, the autosave lookup and galleries skip dot-files, and a later write removes it once it
is old and its writer is gone (checked for the training checkpoint and the autosave).
"""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
import pytest

from demo.errors import UserError
from demo.tools.session import Event, read_session

TESTS = Path(__file__).resolve().parent
INSIDE = "inside the write"
FIRST = [Event(t=i / 4, type="move", x=i / 200, y=0.5) for i in range(200)]
SECOND = [Event(t=i / 4, type="command", name="fix") for i in range(300)]
PICTURES = [(np.random.default_rng(seed).random((64, 64, 3)) * 255).astype(np.uint8) for seed in (1, 2)]


# The child's side.
def child(kind: str, folder: str, writer: str, kill_at: str) -> None:
    """A good write of ``kind`` in ``folder``, then one that is killed (see the module's docstring)."""
    CHILDREN[kind](Path(folder), naive=writer == "naive", kill_at=kill_at)


def hang_halfway(data: bytes, target) -> None:
    """Write half of ``data`` to ``target``, tell the parent, and wait to be killed."""
    with open(target, "wb") as handle:
        handle.write(data[: len(data) // 2])
    wait_to_be_killed()


def hang_halfway_through(serialise, target) -> None:
    """``serialise(buffer)``, then write half of its bytes to ``target`` and wait to be killed."""
    buffer = io.BytesIO()
    serialise(buffer)
    hang_halfway(buffer.getvalue(), target)


def wait_to_be_killed() -> None:
    print(INSIDE, flush=True)
    time.sleep(60)
    raise SystemExit("not killed")


def torn_write_bytes(self: Path, data: bytes) -> None:
    hang_halfway(bytes(data), self)


# The negative control's writers: straight to the final name.
def naive_replace_file(path, data) -> Path:
    Path(path).write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


@contextmanager
def naive_replacing(path, *, suffix: str = ".tmp"):
    yield str(path)


def autosave_child(folder: Path, *, naive: bool, kill_at: str) -> None:
    from demo.app.edit import autosave

    saver = autosave.Autosave(folder, seconds=1.0, clock=time.monotonic, meta={"model": "m"})
    saver.write(FIRST)
    if naive:
        autosave.replace_file = naive_replace_file
    Path.write_bytes = torn_write_bytes
    saver.write(SECOND)


def checkpoint_child(folder: Path, *, naive: bool, kill_at: str) -> None:
    import torch

    from demo.train import common

    common.save_checkpoint(folder, {"step": 1, "weights": torch.ones(4096)})
    if naive:
        common.replacing = naive_replacing
    real_save = torch.save
    torch.save = lambda state, target: hang_halfway_through(lambda buffer: real_save(state, buffer), target)
    common.save_checkpoint(folder, {"step": 2, "weights": torch.zeros(4096)})


def card_child(folder: Path, *, naive: bool, kill_at: str) -> None:
    """update_card, killed while it writes the .json card."""
    from demo.engine.checkpoint import safetensors_io

    safetensors_io.update_card(folder / "small.json", notes="first")
    if naive:
        safetensors_io.replace_file = naive_replace_file
    Path.write_bytes = torn_write_bytes
    safetensors_io.update_card(folder / "small.json", notes="second")


def model_child(folder: Path, *, naive: bool, kill_at: str) -> None:
    """update_card, killed while embed_card rewrites the .safetensors file."""
    from safetensors.torch import save

    from demo.engine.checkpoint import safetensors_io

    safetensors_io.update_card(folder / "small.json", notes="first")
    if naive:
        safetensors_io.replacing = naive_replacing
    safetensors_io.save_file = lambda tensors, target, metadata=None: hang_halfway(save(tensors, metadata=metadata), target)
    safetensors_io.update_card(folder / "small.json", notes="second")


def save_child(folder: Path, *, naive: bool, kill_at: str) -> None:
    """A saved picture, then a second save killed while it writes its PNG or between placing the PNG and
    its session."""
    from demo.app.edit import saving

    saving.save_result(folder, image=PICTURES[0], events=FIRST, meta={"model": "m"}, now=0)
    if kill_at == "link":
        hang_at_second_link()
    else:
        Path.write_bytes = torn_write_bytes
    if naive:  # what a naive saver does: write the picture straight under its final name
        Path(folder / "igan-19700101-000001.png").write_bytes(saving._png(PICTURES[1]))
    saving.save_result(folder, image=PICTURES[1], events=SECOND, meta={"model": "m"}, now=1)


def cache_child(folder: Path, *, naive: bool, kill_at: str) -> None:
    """The upsampler report's first write of a cached array, killed while np.save writes it."""
    from demo.train.upsampler import report

    if naive:
        report.replacing = naive_replacing
    real_save = np.save
    np.save = lambda target, array: hang_halfway_through(lambda buffer: real_save(buffer, array), target)
    report.cached_array(folder / "cache.npy", lambda: PICTURES[0])


def hang_at_second_link() -> None:
    """Let the first hard link (the PNG's final name) be made, and wait to be killed at the second."""
    real_link = os.link
    made = []

    def link(source, target) -> None:
        if made:
            wait_to_be_killed()
        real_link(source, target)
        made.append(target)

    os.link = link


CHILDREN = {"autosave": autosave_child, "checkpoint": checkpoint_child, "card": card_child, "model": model_child,
            "save": save_child, "cache": cache_child}


# The parent's side.
def kill_mid_write(folder: Path, kind: str, *, writer: str, kill_at: str = "write") -> None:
    """Run the child for ``kind`` and SIGKILL it inside its second write."""
    script = f"import sys; sys.path.insert(0, {str(TESTS)!r}); import test_crash_safe_writes as t; t.child(*sys.argv[1:])"
    with subprocess.Popen([sys.executable, "-c", script, kind, str(folder), writer, kill_at], cwd=TESTS.parent,
                          env={**os.environ, "TZ": "UTC"}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            ready, _, _ = select.select([process.stdout], [], [], 60)
            said = process.stdout.readline().strip() if ready else ""  # "" if the child ended first
        finally:
            process.kill()  # SIGKILL: inside the write, once the child has said so
        problems = process.stderr.read()
    assert said == INSIDE, f"the child did not reach the write: {said!r}\n{problems}"
    assert process.returncode == -9


def visible(folder: Path, *, hidden: bool = False) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") == hidden)


def make_old(folder: Path) -> None:
    """Date the hidden (temporary) files in ``folder`` an hour back."""
    for name in visible(folder, hidden=True):
        os.utime(folder / name, (time.time() - 3600,) * 2)


def model_folder(small_model_file: Path, folder: Path) -> Path:
    """A copy of the small model file and its card in ``folder``."""
    for suffix in (".safetensors", ".json"):
        folder.joinpath("small" + suffix).write_bytes(small_model_file.with_suffix(suffix).read_bytes())
    return folder


def reads_back(read, *errors: type[Exception]) -> bool:
    """Whether ``read()`` is true; False if it raises one of ``errors`` (a torn file)."""
    try:
        return bool(read())
    except errors:
        return False


WRITERS = [pytest.param("safe", True, id="safe"), pytest.param("naive", False, id="naive-writer-tears-it")]


@pytest.mark.parametrize("writer, survives", WRITERS)
def test_a_killed_autosave_keeps_the_previous_copy(tmp_path, writer, survives):
    from demo.app.edit.autosave import Autosave, latest_autosave

    kill_mid_write(tmp_path, "autosave", writer=writer)
    assert reads_back(lambda: list(read_session(latest_autosave(tmp_path)).events) == FIRST, UserError) == survives
    assert len(visible(tmp_path / ".autosave")) == 1  # the temporary file is a dot-file, which the lookup skips
    if writer == "safe":  # the next run's first write clears it, once it is old
        make_old(tmp_path / ".autosave")
        Autosave(tmp_path, seconds=1.0, clock=time.monotonic, meta={}).write(FIRST)
        assert visible(tmp_path / ".autosave", hidden=True) == []


@pytest.mark.parametrize("writer, survives", WRITERS)
def test_a_killed_training_checkpoint_keeps_the_previous_one(tmp_path, writer, survives):
    from demo.train.common import load_checkpoint, save_checkpoint

    kill_mid_write(tmp_path, "checkpoint", writer=writer)
    assert reads_back(lambda: load_checkpoint(tmp_path)["step"] == 1, UserError) == survives
    assert visible(tmp_path) == ["checkpoint.pt"]
    if writer == "safe":
        # The killed write's temporary file goes at the next save, once it is old (its writer is gone).
        [orphan] = visible(tmp_path, hidden=True)
        assert orphan.startswith(".checkpoint.pt.")
        save_checkpoint(tmp_path, {"step": 3})
        assert visible(tmp_path, hidden=True) == [orphan]  # young: it could be a live writer's on another machine
        make_old(tmp_path)
        save_checkpoint(tmp_path, {"step": 4})
        assert visible(tmp_path, hidden=True) == [] and load_checkpoint(tmp_path)["step"] == 4


@pytest.mark.parametrize("writer, survives", WRITERS)
def test_a_killed_card_update_keeps_the_previous_card(tmp_path, small_model_file, writer, survives):
    from demo.engine.checkpoint import load_model

    folder = model_folder(small_model_file, tmp_path)
    kill_mid_write(folder, "card", writer=writer)
    card = folder / "small.json"
    assert reads_back(lambda: json.loads(card.read_text())["notes"] == "first", json.JSONDecodeError) == survives
    if survives:
        assert load_model(folder / "small.safetensors").card.notes == "first"
    assert visible(folder) == ["small.json", "small.safetensors"]


@pytest.mark.parametrize("writer, survives", WRITERS)
def test_a_killed_embed_card_keeps_the_previous_model_file(tmp_path, small_model_file, writer, survives):
    from safetensors import safe_open

    from demo.engine.checkpoint import load_model

    folder = model_folder(small_model_file, tmp_path)
    kill_mid_write(folder, "model", writer=writer)
    model_file = folder / "small.safetensors"
    assert reads_back(lambda: load_model(model_file), UserError) == survives  # a torn file is refused
    if survives:
        with safe_open(str(model_file), framework="pt") as handle:
            assert json.loads(handle.metadata()["card"])["notes"] == "first"
        pairs = zip(load_model(model_file).G.state_dict().values(), load_model(small_model_file).G.state_dict().values())
        assert all(a.equal(b) for a, b in pairs)
    assert visible(folder) == ["small.json", "small.safetensors"]


def is_whole(path: Path) -> bool:
    """A saved file that reads back as what a save wrote: one of the pictures, the session, the meta."""
    if path.suffix == ".png":
        image = cv2.imread(str(path))
        return image is not None and any(np.array_equal(image[..., ::-1], picture) for picture in PICTURES)
    read = (lambda: read_session(path).events) if path.suffix == ".jsonl" else (lambda: json.loads(path.read_text()))
    return reads_back(read, UserError, json.JSONDecodeError)


@pytest.mark.parametrize("writer, kill_at, survives", [
    pytest.param("safe", "write", True, id="safe-killed-writing"),
    pytest.param("safe", "link", True, id="safe-killed-between-files"),
    pytest.param("naive", "write", False, id="naive-writer-tears-it"),
])
def test_a_killed_save_leaves_nothing_torn_under_a_final_name(tmp_path, writer, kill_at, survives):
    kill_mid_write(tmp_path, "save", writer=writer, kill_at=kill_at)
    first = {p.name for p in tmp_path.glob("*.json") if json.loads(p.read_text())["image"].endswith("-000000.png")}
    assert len(first) == 1  # the first save, whole: its meta names its picture
    assert all(is_whole(tmp_path / name) for name in visible(tmp_path)) == survives
    if writer == "safe":
        # Killed writing: only the first save's files have final names. Killed between files: the new picture,
        # whole, has its name too (the PNG is placed first); its session and meta stay hidden temporary files.
        new_files = [name for name in visible(tmp_path) if "-000001" in name]
        assert new_files == ([] if kill_at == "write" else ["igan-19700101-000001.png"])
        assert len(visible(tmp_path)) == 3 + len(new_files)
        temps = visible(tmp_path, hidden=True)
        assert temps and all(name.startswith(".igan.") and name.endswith(".tmp") for name in temps)


@pytest.mark.parametrize("writer, survives", WRITERS)
def test_a_killed_cache_write_leaves_no_torn_cache_and_the_next_run_computes_it(tmp_path, writer, survives):
    from demo.train.upsampler.report import cached_array

    kill_mid_write(tmp_path, "cache", writer=writer)
    assert (tmp_path / "cache.npy").exists() != survives  # the naive writer leaves half a file under the name
    assert reads_back(lambda: np.array_equal(cached_array(tmp_path / "cache.npy", lambda: PICTURES[0]), PICTURES[0]),
                      ValueError, EOFError, OSError) == survives
