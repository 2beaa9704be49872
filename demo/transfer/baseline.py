"""The transfer estimator as it was at an earlier commit, for before/after measurements (``bench transfer --faithful``).

``git show REF:demo/transfer/*.py`` is written to a private package under ``cache`` (its ``demo.transfer.``
imports pointed at that package), so the old code runs beside the current one in one process and on the
same inputs. Nothing of the old code is kept in the repository.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

from demo.errors import UserError


def _git(root: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else exc
        raise UserError(f"baseline: git {' '.join(args)} failed ({detail})") from None


def load_baseline_estimator(ref: str, *, cache: Path):
    """A ``TransferEstimator()`` from commit ``ref`` (call it as the current one: source, target -> params)."""
    root = Path(__file__).resolve().parents[2]
    package = "transfer_at_" + "".join(c if c.isalnum() else "_" for c in ref)
    folder = cache / "baseline" / package
    folder.mkdir(parents=True, exist_ok=True)
    for path in _git(root, "ls-tree", "--name-only", ref, "demo/transfer/").split():
        if path.endswith(".py"):
            text = _git(root, "show", f"{ref}:{path}")
            (folder / Path(path).name).write_text(text.replace("demo.transfer.", f"{package}."))
    if not (folder / "pipeline.py").exists():
        raise UserError(f"baseline {ref}: no demo/transfer/pipeline.py at that commit")
    if str(folder.parent) not in sys.path:
        sys.path.insert(0, str(folder.parent))
    return importlib.import_module(f"{package}.pipeline").TransferEstimator()
