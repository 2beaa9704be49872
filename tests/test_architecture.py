"""The architecture's rules that a test can check: small modules, no import cycles, narrow seams into ``App``.

Imports are read from the source (every ``import`` statement, function-local ones included), so a cycle
that only closes when a function runs is caught too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "demo"
MAX_LINES = 300
MAX_APP_ATTRIBUTES = 5


def module_name(path: Path) -> str:
    parts = path.relative_to(DEMO.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(DEMO.rglob("*.py"))}


def imported_modules(name: str, tree: ast.AST) -> set[str]:
    """The demo modules that ``name``'s source imports, anywhere in it."""
    found = set()
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import mod`` imports the module pkg.mod where there is one.
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        found.update(target for target in targets if target in MODULES and target != name)
    return found


def import_graph() -> dict[str, set[str]]:
    return {name: imported_modules(name, ast.parse(path.read_text())) for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_back():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_sees_a_function_local_cycle():
    graph = {"demo.a": {"demo.b"}, "demo.b": {"demo.c"}, "demo.c": {"demo.a"}, "demo.d": {"demo.a"}}
    assert cycles(graph) == [["demo.a", "demo.b", "demo.c"]]
    tree = ast.parse("def f():\n    from demo.engine import api\n")
    assert imported_modules("demo.engine.engine", tree) == {"demo.engine.api"}


def test_modules_stay_small():
    long = {name: n for name, path in MODULES.items()
            if not name.startswith("demo.data.") and (n := len(path.read_text().splitlines())) > MAX_LINES}
    assert long == {}


def test_every_package_says_what_lives_there():
    silent = [name for name, path in MODULES.items() if path.name == "__init__.py" and not ast.get_docstring(ast.parse(path.read_text()))]
    assert silent == []


def app_reads(tree: ast.AST) -> tuple[set[str], set[str]]:
    """(attributes read of an ``app`` / ``self.app``, those read two levels deep as 'a.b')."""
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def is_app(node: ast.AST) -> bool:
        if isinstance(node, ast.Name):
            return node.id == "app"
        return (isinstance(node, ast.Attribute) and node.attr in ("app", "_app")
                and isinstance(node.value, ast.Name) and node.value.id == "self")

    read, deep = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_app(node.value):
            read.add(node.attr)
            parent = parents.get(node)
            if isinstance(parent, ast.Attribute) and parent.value is node:
                deep.add(f"{node.attr}.{parent.attr}")
    return read, deep


@pytest.mark.parametrize("name", [name for name in MODULES if name != "demo.app.app"])
def test_no_module_reaches_into_the_app(name):
    read, deep = app_reads(ast.parse(MODULES[name].read_text()))
    assert len(read) <= MAX_APP_ATTRIBUTES, sorted(read)
    assert deep == set()


def test_the_app_reach_check_sees_two_levels():
    read, deep = app_reads(ast.parse("def f(app):\n    app.router.gamepad.pads\n    app.tell('x')\n"))
    assert read == {"router", "tell"}
    assert deep == {"router.gamepad"}
