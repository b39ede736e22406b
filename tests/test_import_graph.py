"""The import graph of app/ and gis/: no circles, and gis/ stays pure (docs/architecture.md).

Edges are read from the source with ``ast``, never by importing it. Every ``import`` statement
counts, at the top of a module or inside a function: an import moved into a function to dodge a
circle still ties the two modules together (neither can be read, tested or changed without the
other); it only postpones the failure to the first call. Every circle in this code base hid
behind such a function-level import, so counting top-level imports alone would have found none.

An edge goes to the deepest module the import names (``from app.db import unit_of_work`` ->
``app.db``; ``from app.audittrail import record_event`` -> the package ``app.audittrail``). The
parent packages that Python runs on the way are not edges: a package's ``__init__`` re-exporting
its own submodules would otherwise make every package a circle of one's own making.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("app", "gis")
# gis/ is pure spatial algorithms: no web framework, no database, nothing of the service.
GIS_FORBIDDEN = ("fastapi", "starlette", "sqlalchemy", "geoalchemy2", "psycopg", "app")


def _modules() -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            if "migrations" in rel.parts:  # Alembic revisions: loaded by Alembic, imported by none
                continue
            parts = list(rel.parts)
            if parts[-1] == "__init__":
                parts.pop()
            mods[".".join(parts)] = path
    return mods


def _imported_names(module: str, path: Path) -> Iterator[tuple[str, int]]:
    """Each absolute dotted name an import statement of ``module`` names, with its line."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from the module's package, up level - 1
                package = (
                    module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
                )
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            for alias in node.names:
                # ``from pkg import sub`` names the submodule when there is one.
                yield f"{base}.{alias.name}", node.lineno


def _resolve(name: str, mods: dict[str, Path]) -> str | None:
    while name:
        if name in mods:
            return name
        name = name.rpartition(".")[0]
    return None


def import_graph() -> tuple[dict[str, dict[str, int]], dict[str, list[tuple[str, int]]]]:
    """Edges between our modules (target -> line of the first import), and every import by name."""
    mods = _modules()
    edges: dict[str, dict[str, int]] = {m: {} for m in mods}
    raw: dict[str, list[tuple[str, int]]] = {m: [] for m in mods}
    for module, path in mods.items():
        for name, line in _imported_names(module, path):
            raw[module].append((name, line))
            target = _resolve(name, mods)
            if target is not None and target != module:
                edges[module].setdefault(target, line)
    return edges, raw


def tangles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan): modules that all reach
    each other through imports."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
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
                components.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return components


def circles(edges: dict[str, dict[str, int]]) -> list[list[str]]:
    """One shortest circle through each tangle, from its first module by name."""
    return [_a_circle(c[0], set(c), edges) for c in tangles(edges)]


def _a_circle(start: str, component: set[str], edges: dict[str, dict[str, int]]) -> list[str]:
    """The shortest path from ``start`` back to itself inside its component (breadth first)."""
    came_from: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for v in frontier:
            for w in sorted(edges[v]):
                if w not in component:
                    continue
                if w == start:
                    path = [v]
                    while path[-1] != start:
                        path.append(came_from[path[-1]])
                    return [start, *reversed(path[:-1]), start]
                if w not in came_from:
                    came_from[w] = v
                    following.append(w)
        frontier = following
    raise AssertionError(f"{start} is in a component without a circle")  # pragma: no cover


def _describe(circle: list[str], edges: dict[str, dict[str, int]]) -> str:
    steps = [f"  {a} (line {edges[a][b]}) -> {b}" for a, b in itertools.pairwise(circle)]
    return "\n".join([" -> ".join(circle), *steps])


def test_no_import_circles_in_app_and_gis() -> None:
    edges, _ = import_graph()
    found = tangles(edges)
    report = [
        f"{_describe(_a_circle(t[0], set(t), edges), edges)}\n  (tied together: {', '.join(t)})"
        for t in found
    ]
    assert not found, "import circles (move the code to where its data is):\n" + "\n".join(report)


def test_gis_imports_no_web_database_or_app() -> None:
    _, raw = import_graph()
    bad = [
        f"{module} line {line}: imports {name}"
        for module, names in sorted(raw.items())
        if module.split(".")[0] == "gis"
        for name, line in names
        if name.split(".")[0] in GIS_FORBIDDEN
    ]
    assert not bad, "gis/ must stay pure spatial code:\n" + "\n".join(bad)


def test_the_graph_sees_function_level_imports_and_circles() -> None:
    """The checker itself, on hand-made graphs and on a known import of this code base."""
    assert circles({"a": {"b": 1}, "b": {"c": 2}, "c": {}}) == []
    assert circles({"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}) == [
        ["a", "b", "c", "a"]
    ]
    assert circles({"x": {"y": 1}, "y": {"x": 9}}) == [["x", "y", "x"]]
    edges, raw = import_graph()
    # app.cli.cmd_run imports uvicorn inside the function: seen, though not one of ours.
    assert any(name == "uvicorn" for name, _ in raw["app.cli"])
    # app.main imports app.db at the top: an edge.
    assert "app.db" in edges["app.main"]


# The environment is read by the entry points alone; everything else gets the Settings it is given
# (``request.app.state.settings``, a command's ``settings`` argument) passed down.
SETTINGS_READERS = {"app.settings", "app.asgi", "app.cli"}


def test_only_the_entry_points_read_settings_from_the_environment() -> None:
    _, raw = import_graph()
    readers = sorted(
        f"{module} line {line}"
        for module, names in raw.items()
        if module not in SETTINGS_READERS
        for name, line in names
        if name == "app.settings.get_settings"
    )
    assert not readers, "get_settings() outside the entry points:\n" + "\n".join(readers)


# The pages and their map layers are clients of the domain services (docs/architecture.md): app/web
# builds no query. Its only database contact is the session it hands to a service.
SQL_NAMES = ("sqlalchemy.text", "sqlalchemy.select", "sqlalchemy.sql", "psycopg")
SQL_WORDS = ("SELECT ", "INSERT INTO ", "UPDATE ", "DELETE FROM ", " WHERE ")


def test_app_web_runs_no_sql_of_its_own() -> None:
    _, raw = import_graph()
    bad = [
        f"{module} line {line}: imports {name}"
        for module, names in sorted(raw.items())
        if module.startswith("app.web")
        for name, line in names
        if name.startswith(SQL_NAMES)
    ]
    for path in sorted((ROOT / "app" / "web").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Attribute) and node.attr in ("execute", "scalar", "scalars"):
                bad.append(f"{path.name} line {node.lineno}: .{node.attr}(...)")
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and any(word in node.value for word in SQL_WORDS):
                bad.append(f"{path.name} line {node.lineno}: SQL text {node.value[:40]!r}")
    assert not bad, "app/web asks the domain services instead:\n" + "\n".join(bad)
