"""Tempest in its own venv (its pins differ from Nubis's), installed once and reused."""

from __future__ import annotations

import os
import subprocess
import sys

TEMPEST_VERSION = "47.0.0"


def ensure(venv: str) -> str:
    """Create ``venv`` with tempest==TEMPEST_VERSION unless it has that already; return its ``tempest``.

    Raises RuntimeError (with pip's output) when the install fails.
    """
    tempest = os.path.join(venv, "bin", "tempest")
    python = os.path.join(venv, "bin", "python")
    if os.path.exists(tempest):
        have = subprocess.run([python, "-c", "from importlib.metadata import version; print(version('tempest'))"],
                              capture_output=True, text=True, check=False).stdout.strip()
        if have == TEMPEST_VERSION:
            return tempest
    print(f"installing tempest {TEMPEST_VERSION} into {venv}", flush=True)
    if not os.path.exists(python):
        subprocess.run(["python3", "-m", "venv", venv], check=True)
    proc = subprocess.run([python, "-m", "pip", "install", "-q", f"tempest=={TEMPEST_VERSION}"],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"installing tempest {TEMPEST_VERSION} failed")
    return tempest
