"""Print a measuring script's JSON report, and write it to ``--json`` when one is given."""

from __future__ import annotations

import json
from pathlib import Path

from demo.safe_files import replace_file


def print_report(report: dict, json_path: Path | None) -> None:
    text = json.dumps(report, indent=2)
    print(text)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(json_path, text + "\n")
