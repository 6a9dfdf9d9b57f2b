"""``nubis.common`` is the bottom layer: it imports no service and not the HTTP layer (DESIGN.md, Layout)."""

from __future__ import annotations

import ast
import os

import nubis.common

# What nubis/common may import from nubis: itself, and the version string.
ALLOWED = ("nubis.common", "nubis.version")


def _imports(path: str, package: str) -> list[str]:
    """Every module ``path`` imports (relative imports resolved against ``package``)."""
    tree = ast.parse(open(path).read(), path)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            # "from nubis import api" imports nubis.api.
            found.extend(f"{base}.{alias.name}" for alias in node.names)
    return found


def test_common_imports_neither_the_http_layer_nor_any_service() -> None:
    root = os.path.dirname(nubis.common.__file__)
    upward = []
    for folder, _dirs, files in os.walk(root):
        for name in files:
            if not name.endswith(".py"):
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, os.path.dirname(os.path.dirname(root)))
            module = rel[:-3].replace(os.sep, ".")
            package = module if name == "__init__.py" else module.rsplit(".", 1)[0]
            package = package.removesuffix(".__init__")
            for imported in _imports(path, package):
                if (imported == "nubis" or imported.startswith("nubis.")) and \
                        not imported.startswith(ALLOWED):
                    upward.append(f"{rel} imports {imported}")
    assert not upward, "nubis.common must not import upward:\n" + "\n".join(upward)


def test_the_check_sees_upward_imports(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The walk recognises each way of spelling an import of nubis.api."""
    source = tmp_path / "mod.py"
    source.write_text("import nubis.api.router\nfrom nubis.api import deploy\nfrom nubis import api\n"
                      "from ...api import request_id\n")
    found = _imports(str(source), "nubis.common.db")
    assert found == ["nubis.api.router", "nubis.api.deploy", "nubis.api", "nubis.api.request_id"]
