"""Examples that run: every file an example names in the README or in a `--help` text is in the repository.

A newcomer copies the examples first, so an example that names a missing photo (as `assets/photos/lake.jpg`
once did) fails here. Paths under `assets/`, `models/`, `deploy/`, `docs/`, `tools/` and `shaders/` must
exist; `out/`, `runs/`, `data/` and `saves/` are what the commands write. A file the user brings is spelt
`YOUR_...` (YOUR_PHOTO.jpg) or as a placeholder (`<...>`, NAME, MODEL). No model is loaded: the parsers
are built and asked for their help, nothing runs.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import re
from pathlib import Path

import pytest

from demo import cli

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("assets", "models", "deploy", "docs", "tools", "shaders")
PATH = re.compile(r"(?<![\w./-])((?:%s)/[\w./*<>{}\[\]-]*)" % "|".join(CHECKED))
PLACEHOLDER = re.compile(r"YOUR_|[<>{}]|(?<![A-Za-z])(NAME|MODEL|DIR|PATH|FILE|STEP)(?![A-Za-z])")


def named_paths(text: str) -> list[str]:
    """The repository paths a text names (placeholders left out), trailing punctuation stripped."""
    paths = []
    for match in PATH.finditer(text):
        path = match.group(1).rstrip(".,:;)]")
        if path.rstrip("/") in CHECKED or PLACEHOLDER.search(path):
            continue
        paths.append(path)
    return paths


def exists(path: str) -> bool:
    """A file or folder, a glob with matches, or a model name (models/landscape64 -> .safetensors, .json)."""
    if any(ch in path for ch in "*?["):
        return any(ROOT.glob(path))
    target = ROOT / path
    return target.exists() or any(target.parent.glob(target.name + ".*"))


def missing(text: str) -> list[str]:
    return [path for path in named_paths(text) if not exists(path)]


def help_text(*argv: str) -> str:
    """What `python -m demo ARGV --help` prints, from the parsers demo.cli builds (no command runs)."""
    command = argv[0] if argv else None
    parser, _ = cli.build_parser(command)
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
        parser.parse_args([*argv, "--help"])
    assert exit_info.value.code == 0, argv
    return out.getvalue()


def bench_suites() -> list[str]:
    from demo.commands.bench import SUITES

    return list(SUITES)


HELP_PAGES = [(), *[(name,) for name in cli.COMMANDS], *[("bench", suite) for suite in bench_suites()]]


@pytest.mark.parametrize("argv", HELP_PAGES, ids=lambda argv: " ".join(argv) or "demo")
def test_every_path_in_a_help_page_exists(argv):
    text = help_text(*argv)
    assert "python -m demo" in text or argv, "the main help page shows examples"
    assert missing(text) == [], f"`python -m demo {' '.join(argv)} --help` names files that are not in the repository"


def readme_examples() -> list[str]:
    """The README's code blocks, and its inline code that is a command line."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```[^\n]*\n(.*?)^```", readme, flags=re.S | re.M)
    inline = [span for span in re.findall(r"`([^`\n]+)`", re.sub(r"^```.*?^```", "", readme, flags=re.S | re.M))
              if re.match(r"(python -m |\./dev|tools/|torchrun|SDL_VIDEODRIVER)", span)]
    return blocks + inline


def test_the_readme_has_examples():
    examples = readme_examples()
    assert any("./dev demo" in example for example in examples)
    assert sum("python -m demo" in example for example in examples) >= 10


def test_every_path_in_a_readme_example_exists():
    bad = {example.strip(): missing(example) for example in readme_examples() if missing(example)}
    assert bad == {}


@pytest.mark.parametrize("page", ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))])
def test_every_relative_link_resolves(page):
    text = (ROOT / page).read_text(encoding="utf-8")
    base = (ROOT / page).parent
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    broken = [t for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")
              and not (base / t.split("#")[0]).exists()]
    assert broken == [], f"{page} links to missing files"


def test_the_check_catches_a_missing_file():
    """The check can fail: the example the help texts used to give named a photo that was never there."""
    assert missing("python -m demo project assets/photos/lake.jpg --method hybrid --out out/lake") == [
        "assets/photos/lake.jpg"]
    assert missing("python -m demo --model models/landscape64 --replay assets/sessions/attract_*.jsonl") == []
    assert missing("python -m demo project YOUR_PHOTO.jpg --out out/p; models/NAME.safetensors; runs/x/y.png") == []


@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_the_command_list_shows_each_command_s_own_help(name):
    """One source of truth: `--help` lists each command with the HELP of its module (read without importing it)."""
    module = importlib.import_module(cli.COMMANDS[name])
    assert cli.command_help(cli.COMMANDS[name]) == module.HELP
    assert module.DESCRIPTION.strip()
