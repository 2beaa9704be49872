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
from demo.transfer.estimation import EditTransfer


def _git(root: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = exc.stderr.strip() if isinstance(exc, subprocess.CalledProcessError) else exc
        raise UserError(f"baseline: git {' '.join(args)} failed ({detail})") from None


def load_baseline_estimator(ref: str, *, cache: Path):
    """The ``TransferEstimator()`` of commit ``ref``, as a function (source, target) -> today's ``EditTransfer``."""
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
    estimator = importlib.import_module(f"{package}.pipeline").TransferEstimator()

    def estimate(source, target) -> EditTransfer:
        """The old estimator's fields, as today's ``EditTransfer`` (no region: it predates them)."""
        params = estimator(source, target)
        return EditTransfer(flow=params.flow, color=params.color, mask=params.mask)

    return estimate
