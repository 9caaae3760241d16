"""The layers hold: no import circles, checks never import a concrete source, the CLI holds no pipeline.

A small ast walk of the package (the same rules as docs/architecture.md states them).
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "tokaudit"
#: source modules a check may import: the protocol, the capabilities and the registry
SHARED_SOURCES = {
    "tokaudit.sources",
    "tokaudit.sources.base",
    "tokaudit.sources.capabilities",
    "tokaudit.sources.registry",
}
#: what cli.py may import from tokaudit: it parses flags, calls the runner, renders, writes, exits
CLI_ALLOWED = {
    "tokaudit.version",
    "tokaudit.errors",
    "tokaudit.findings",
    "tokaudit.options",
    "tokaudit.output",
    "tokaudit.report",
    "tokaudit.runner",
    "tokaudit.init.write",  # `tokaudit init` writes a config; it runs no pipeline
}


def _modules() -> dict[str, Path]:
    out = {}
    for p in PACKAGE.rglob("*.py"):
        name = ".".join(p.relative_to(ROOT).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


MODULES = _modules()


def _imports(name: str) -> set[str]:
    path = MODULES[name]
    pkg = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = pkg.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{a.name}" for a in node.names}
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: _imports(name) for name in MODULES}


def _reaches(start: str, goal: str) -> bool:
    seen, todo = set(), [start]
    while todo:
        for nxt in GRAPH[todo.pop()] - seen:
            if nxt == goal:
                return True
            seen.add(nxt)
            todo.append(nxt)
    return False


def test_the_package_has_no_import_circles() -> None:
    circles = sorted(
        f"{a} <-> {b}"
        for a in GRAPH
        for b in GRAPH[a]
        # a package's __init__ importing its own submodules is not a circle
        if not b.startswith(a + ".") and not a.startswith(b + ".") and _reaches(b, a)
    )
    assert circles == []


def test_no_check_imports_a_concrete_source() -> None:
    concrete = {m for m in MODULES if m.startswith("tokaudit.sources.") and m not in SHARED_SOURCES}
    assert concrete, "the sources package moved: update the test"
    bad = {n: sorted(GRAPH[n] & concrete) for n in GRAPH if n.startswith("tokaudit.checks") and GRAPH[n] & concrete}
    assert bad == {}


def test_config_validates_source_names_without_importing_the_sources() -> None:
    assert not any(
        m.startswith("tokaudit.sources") and m != "tokaudit.sources.registry" for m in GRAPH["tokaudit.config"]
    )
    assert GRAPH["tokaudit.sources.registry"] == set()


def test_the_cli_only_parses_runs_renders_and_exits() -> None:
    assert {m for m in GRAPH["tokaudit.cli"] if not m.startswith("tokaudit.report.")} - CLI_ALLOWED == set()
    # the runner is the one place that loads sides, reads samples, applies baselines and takes snapshots
    for step in ("tokaudit.sources.sides", "tokaudit.corpus", "tokaudit.baseline", "tokaudit.snapshot"):
        assert step not in GRAPH["tokaudit.cli"] and _reaches("tokaudit.runner", step), step


def test_formatters_only_read_findings() -> None:
    for name in GRAPH:
        if name.startswith("tokaudit.report."):
            assert {m for m in GRAPH[name] if not m.startswith("tokaudit.report")} <= {
                "tokaudit.version",
                "tokaudit.findings",
            }
