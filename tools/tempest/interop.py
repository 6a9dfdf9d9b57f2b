"""The OpenStack interop guidelines' required tests, as a Tempest ``--regex`` selection.

Each guideline file in ``tools/tempest/interop/`` lists Tempest test names (one per line, ``#`` comments),
taken from the guideline's "OpenStack Powered Compute" required, unflagged capabilities.
"""

from __future__ import annotations

import os
import re

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "interop")


def available() -> list[str]:
    """The guideline ids that have a list here, e.g. ``["2020.06"]``."""
    return sorted(name[:-4] for name in os.listdir(HERE) if name.endswith(".txt"))


def tests(guideline: str) -> list[str]:
    """The test names guideline ``guideline`` requires. Raises ValueError for an unknown guideline."""
    if guideline not in available():
        raise ValueError(f"no interop guideline {guideline!r} here; known: {', '.join(available())}")
    with open(os.path.join(HERE, f"{guideline}.txt")) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def regex(guideline: str) -> str:
    """A Tempest ``--regex`` matching exactly the guideline's tests (a name ends where its ``[id-…]`` starts)."""
    return "^(" + "|".join(re.escape(name) for name in tests(guideline)) + r")\["
