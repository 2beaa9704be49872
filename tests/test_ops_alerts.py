"""The alert rules fire when they should and stay quiet otherwise: Prometheus' own ``promtool test rules``
on deploy/igan-alerts.test.yml (a restart, errors, a slow station, no visits in opening time but not at
night, memory growth). Skipped, with a line that says so, where promtool is not installed."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"


def test_the_alert_rules_pass_their_unit_tests():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("alert rule test skipped: promtool is not installed (apt-get install prometheus)")
    checked = subprocess.run([promtool, "check", "rules", str(DEPLOY / "igan-alerts.yml")], capture_output=True,
                             text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = subprocess.run([promtool, "test", "rules", str(DEPLOY / "igan-alerts.test.yml")], capture_output=True,
                            text=True, timeout=120)
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr
