"""Benchmarks stay runnable (a dry run at tiny sizes); their figures are measured outside the test suite."""

from __future__ import annotations

import json

from demo.cli import main


def test_solver_bench_dry_run_reports_ratios(tmp_path, small_model_file):
    out = tmp_path / "bench.json"
    assert main(["bench", "solver", "--model", str(small_model_file), "--batches", "1,3", "--rounds", "1",
                 "--steps", "2", "--sgemm-size", "256", "--device", "cpu", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert [row["K"] for row in report["rows"]] == [1, 3]
    for row in report["rows"]:
        assert row["bare_steps_per_s"] > 0 and row["solver_steps_per_s"] > 0
        assert abs(row["ratio"] - row["solver_steps_per_s"] / row["bare_steps_per_s"]) < 0.01
