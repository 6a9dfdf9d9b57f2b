"""The shape of the house, checked on the import graph (read with ``ast``, nothing imported).

- a service's core and db never import the HTTP layer (``nubis.api``): the core never sees HTTP;
- ``nubis.common`` imports no service and not the HTTP layer;
- no service imports another service's core or db (they talk over HTTP or RPC);
- placement imports nothing of the scheduler (scheduling explanations are the scheduler side's);
- no import circles among Nubis modules (module-level imports, ``TYPE_CHECKING`` ones included).
"""

from __future__ import annotations

import ast
import pathlib
from collections.abc import Iterator

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "nubis"
# Top-level packages that are not services.
SHARED = {"api", "common", "cmd"}


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.Module, module: str, is_package: bool, everywhere: bool) -> Iterator[str]:
    """Absolute names of the nubis modules (or names inside them) a module imports.

    Module-level imports always, ``TYPE_CHECKING`` ones included (a type-level
    circle is a circle); imports inside functions only when ``everywhere``.
    """
    nodes: list[ast.AST] = []
    if everywhere:
        nodes = list(ast.walk(tree))
    else:
        pending: list[ast.stmt] = list(tree.body)
        while pending:
            node = pending.pop()
            nodes.append(node)
            if isinstance(node, (ast.If, ast.Try)):
                pending += node.body + node.orelse + getattr(node, "finalbody", [])
                pending += [s for h in getattr(node, "handlers", []) for s in h.body]
    for node in nodes:
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("nubis"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join(anchor + ([base] if base else []))
            if base.startswith("nubis"):
                yield from (f"{base}.{a.name}" for a in node.names)


def _graph(everywhere: bool) -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        targets = set()
        for imported in _imports(tree, name, path.name == "__init__.py", everywhere):
            # "from a.b import c" names module a.b.c when it exists, else a name inside a.b.
            while imported not in modules and "." in imported:
                imported = imported.rsplit(".", 1)[0]
            if imported in modules and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def _service(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 and parts[1] not in SHARED else None


def _layer(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) > 2 else None


def test_core_and_db_never_import_the_http_layer() -> None:
    bad = sorted(f"{m} -> {t}" for m, ts in _graph(True).items() for t in ts
                 if _service(m) and _layer(m) in ("core", "db") and t.startswith("nubis.api"))
    assert bad == []


def test_common_imports_no_service_and_no_http() -> None:
    bad = sorted(f"{m} -> {t}" for m, ts in _graph(True).items() for t in ts
                 if m.startswith("nubis.common") and (_service(t) or t.startswith("nubis.api")))
    assert bad == []


def test_no_service_reaches_into_another_services_core_or_db() -> None:
    bad = sorted(f"{m} -> {t}" for m, ts in _graph(True).items() for t in ts
                 if _service(m) and _service(t) and _service(m) != _service(t) and _layer(t) in ("core", "db"))
    assert bad == []


def test_placement_imports_no_scheduler() -> None:
    """Placement is called by the scheduler, never the other way round: it serves no scheduling."""
    bad = sorted(f"{m} -> {t}" for m, ts in _graph(True).items() for t in ts
                 if m.startswith("nubis.placement") and t.startswith("nubis.scheduler"))
    assert bad == []


def test_no_import_circles() -> None:
    graph = _graph(False)
    cycles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    # A package importing its own submodules (``from . import x``) is not a circle.
    real = [c for c in cycles if not all(b.startswith(a + ".") or a.startswith(b + ".") for a, b in zip(c, c[1:], strict=False))]
    assert real == []


def test_the_graph_is_read() -> None:
    """The checks above see the real code: known edges are there."""
    graph = _graph(True)
    assert "nubis.common.exceptions" in graph["nubis.api.faults"]
    assert any(t.startswith("nubis.compute") for t in graph["nubis.compute.api_service"])
