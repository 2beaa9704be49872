"""The CLI's promise on bad input: run ``python -m demo ARGS`` in-process and check that it failed with one
clear ``error:`` line (exit 2, no traceback)."""

from __future__ import annotations

from demo.cli import main


def run_cli(args: list[str], capsys) -> tuple[int, str]:
    """Run ``python -m demo ARGS`` in-process; (exit status, stderr)."""
    code = main(args)
    return code, capsys.readouterr().err


def assert_one_clear_line(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
