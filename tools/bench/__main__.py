"""Run benchmarks by name (module names in this package), or all of them."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import tools.bench as package


def main(argv: list[str]) -> int:
    names = argv or sorted(m.name for m in pkgutil.iter_modules(package.__path__) if not m.name.startswith("_"))
    for name in names:
        print(f"== {name}", flush=True)
        module = importlib.import_module(f"tools.bench.{name}")
        module.main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
