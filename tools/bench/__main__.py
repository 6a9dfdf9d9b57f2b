"""``python -m tools.bench``: every benchmark, written up as BENCHMARKS.md and benchmarks/results.json.

``python -m tools.bench identity network`` runs just those, printing their figures (no report).
"""

from __future__ import annotations

import importlib
import sys

from tools.bench import report


def main(argv: list[str]) -> int:
    if not argv:
        report.main([])
        return 0
    for name in argv:
        print(f"== {name}", flush=True)
        importlib.import_module(f"tools.bench.{name}").main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
