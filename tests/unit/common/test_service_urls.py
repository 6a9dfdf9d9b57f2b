"""Another service's URLs are written in its one client only (``nubis/common/clients/``), never by hand.

Read with ``ast``: a string (or the literal start of an f-string) that begins with another service's API path
outside that service's own package and the clients fails here.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3] / "nubis"
# API path prefix -> the package that serves it (which may write its own paths).
OWNERS = {"/v2/images": "image", "/v2.0/": "network", "/resource_providers": "placement",
          "/allocation_candidates": "placement", "/allocations": "placement"}
# The exporter's poller reads every API generically, read-only, with its own session (doc/monitoring.md).
EXEMPT = {ROOT / "common" / "clients", ROOT / "monitoring"}


def _literal_starts(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            found.append((node.lineno, str(node.values[0].value)))
    return found


def test_no_other_services_url_outside_its_client() -> None:
    bad = []
    for path in sorted(ROOT.rglob("*.py")):
        if any(path.is_relative_to(e) for e in EXEMPT):
            continue
        package = path.relative_to(ROOT).parts[0]
        for lineno, text in _literal_starts(ast.parse(path.read_text(), str(path))):
            for prefix, owner in OWNERS.items():
                if text.startswith(prefix) and package != owner:
                    bad.append(f"{path.relative_to(ROOT.parent)}:{lineno}: {text[:60]!r}")
    assert bad == []


def test_the_check_sees_the_clients() -> None:
    """The walk above reads real code: the clients' own paths are there to be found."""
    clients = ROOT / "common" / "clients"
    texts = [t for p in clients.glob("*.py") for _, t in _literal_starts(ast.parse(p.read_text()))]
    assert any(t.startswith("/v2/images") for t in texts)
    assert any(t.startswith("/allocations") for t in texts)
