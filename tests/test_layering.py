"""The layers of ``src/tansuan`` are a test: read every import (``ast``, module and function
level) and fail on an arrow that points the wrong way.

The rules are the ones docs/architecture.md draws:

* ``domain`` imports nothing of ours but ``errors``;
* ``store`` imports no layer above it (ingest, accounting, analytics, market, reports,
  views, web, cli, …);
* nothing imports ``cli``, and nothing but ``cli`` imports ``web``;
* the module graph has no cycle;
* an import inside a function only defers a heavy optional dependency, and says so in a
  ``# deferred: <reason>`` comment on its line or the line above (``cli/`` is exempt: a
  command imports what it needs when it runs, so ``tansuan --help`` starts fast).

Arrows that run up on purpose are listed in :data:`ALLOWED_UPWARD` with the reason
docs/architecture.md gives; the test also fails when one of them is no longer needed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "tansuan"

#: Layer of each top-level module or package, lowest first. An import may point at the
#: same or a lower layer. Root modules: errors, clock, settings at the bottom; platform
#: and services wire everything and sit under views/web/cli.
LAYERS: dict[str, int] = {
    "errors": 0,
    "clock": 1,
    "domain": 1,
    "data": 1,
    "settings": 2,
    "site": 3,
    "store": 4,
    "ledger": 5,
    "ingest": 5,
    "gateways": 6,
    "accounting": 6,
    "twin": 7,
    "analytics": 7,
    "market": 7,
    "reports": 8,
    "platform": 9,
    "services": 10,
    "views": 11,
    "web": 12,
    "cli": 13,
}

#: (importer, imported) pairs of top-level parts that run up on purpose, with the reason.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    module: str  #: the importing module, dotted (``tansuan.store.readings``)
    target: str  #: the imported module, dotted (``tansuan.ingest.reading``)
    line: int
    in_function: bool
    reason: str | None  #: the text after ``# deferred:``, if any


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if not is_package:
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _deferred_reason(lines: list[str], lineno: int) -> str | None:
    for text in (lines[lineno - 1], lines[lineno - 2] if lineno > 1 else ""):
        if "# deferred:" in text:
            return text.split("# deferred:", 1)[1].strip() or None
    return None


def _imports() -> list[Import]:
    found: list[Import] = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)  # migrations too: they belong to the store
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        tree = ast.parse(text, filename=str(path))
        functions: list[tuple[int, int]] = [
            (n.lineno, n.end_lineno or n.lineno)
            for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        ]
        type_checking: list[tuple[int, int]] = [
            (n.lineno, n.end_lineno or n.lineno)
            for n in ast.walk(tree)
            if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
        ]
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, path.name == "__init__.py", node)
                # `from tansuan.x import y` may import the module tansuan.x.y
                targets = [
                    f"{base}.{a.name}" if _is_module(f"{base}.{a.name}") else base
                    for a in node.names
                ]
            else:
                continue
            if any(a <= node.lineno <= b for a, b in type_checking):
                continue  # annotations only: never executed
            inside = any(a < node.lineno <= b for a, b in functions)
            for target in targets:
                if target == "tansuan" or target.startswith("tansuan."):
                    found.append(
                        Import(
                            module,
                            target,
                            node.lineno,
                            inside,
                            _deferred_reason(lines, node.lineno),
                        )
                    )
    return found


def _is_module(dotted: str) -> bool:
    path = SRC.joinpath(*dotted.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _part(dotted: str) -> str:
    """The top-level part of a module of ours: ``tansuan.store.readings`` → ``store``."""
    parts = dotted.split(".")
    return parts[1] if len(parts) > 1 else ""


IMPORTS = _imports()


def test_the_imports_were_read() -> None:
    """A broken reader would pass every rule below: make sure it saw the package."""
    modules = {i.module for i in IMPORTS}
    assert len(IMPORTS) > 300 and len(modules) > 120
    assert any(i.module == "tansuan.cli" for i in IMPORTS)
    assert all(_part(i.module) in LAYERS for i in IMPORTS), "a top-level part has no layer"


def test_domain_imports_only_errors() -> None:
    bad = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in IMPORTS
        if _part(i.module) == "domain" and _part(i.target) not in ("domain", "errors", "data")
    ]
    assert not bad, bad


def test_store_imports_no_layer_above() -> None:
    above = {"ingest", "accounting", "analytics", "market", "reports", "views", "web", "cli"}
    above |= {"platform", "services", "gateways", "twin", "ledger"}
    bad = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in IMPORTS
        if _part(i.module) == "store" and _part(i.target) in above
    ]
    assert not bad, bad


def test_nothing_imports_cli_or_web() -> None:
    bad = [
        f"{i.module}:{i.line} imports {i.target}"
        for i in IMPORTS
        if (_part(i.target) == "cli" and _part(i.module) != "cli")
        or (_part(i.target) == "web" and _part(i.module) not in ("web", "cli"))
    ]
    assert not bad, bad


def test_no_import_runs_up_a_layer() -> None:
    bad = []
    used = set()
    for i in IMPORTS:
        a, b = _part(i.module), _part(i.target)
        if a == b or b == "" or LAYERS[b] <= LAYERS[a]:
            continue
        if (a, b) in ALLOWED_UPWARD:
            used.add((a, b))
            continue
        bad.append(f"{i.module}:{i.line} ({a}, layer {LAYERS[a]}) imports {i.target} "
                   f"({b}, layer {LAYERS[b]})")  # fmt: skip
    assert not bad, "\n".join(bad)
    assert used == set(ALLOWED_UPWARD), f"no longer needed: {set(ALLOWED_UPWARD) - used}"


def test_function_level_imports_say_why() -> None:
    """Ours and third-party ones alike: an import inside a function hides an arrow or a
    start-up cost, so it needs its reason."""
    bad = [
        f"{module}:{line} imports {target} inside a function without '# deferred: why'"
        for module, line, target, reason in _function_level_imports()
        if _part(module) != "cli" and not reason
    ]
    assert not bad, "\n".join(bad)


def _function_level_imports() -> list[tuple[str, int, str, str | None]]:
    """(module, line, imported module, reason) of every import inside a function."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        seen: set[int] = set()
        for function in ast.walk(ast.parse(text)):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import | ast.ImportFrom) and node.lineno not in seen:
                    seen.add(node.lineno)
                    target = node.module if isinstance(node, ast.ImportFrom) else None
                    target = target or node.names[0].name
                    reason = _deferred_reason(lines, node.lineno)
                    found.append((_module_name(path), node.lineno, target, reason))
    return found


def test_no_cycles() -> None:
    graph: dict[str, set[str]] = {}
    for i in IMPORTS:
        graph.setdefault(i.module, set()).add(i.target)
    cycles = _cycles(graph)
    assert not cycles, cycles


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}}, []),
    ],
)
def test_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert _cycles(graph) == expected
