"""Tempest in its own venv (its pins differ from Nubis's), installed once and reused."""

from __future__ import annotations

import os
import subprocess
import sys

TEMPEST_VERSION = "47.0.0"
# Tempest plugins installed beside it (their tests are selected with --filter, e.g. neutron_tempest_plugin.api).
PLUGINS = {"neutron-tempest-plugin": "3.3.0"}


def ensure(venv: str) -> str:
    """Create ``venv`` with tempest==TEMPEST_VERSION and ``PLUGINS`` unless it has them already; return its
    ``tempest``.

    Raises RuntimeError (with pip's output) when the install fails.
    """
    tempest = os.path.join(venv, "bin", "tempest")
    python = os.path.join(venv, "bin", "python")
    if os.path.exists(tempest):
        names = ["tempest", *PLUGINS]
        have = subprocess.run([python, "-c", "import sys\nfrom importlib.metadata import version\n"
                               "for n in sys.argv[1:]:\n    print(version(n))", *names],
                              capture_output=True, text=True, check=False).stdout.split()
        if have == [TEMPEST_VERSION, *PLUGINS.values()]:
            return tempest
    print(f"installing tempest {TEMPEST_VERSION} into {venv}", flush=True)
    if not os.path.exists(python):
        subprocess.run(["python3", "-m", "venv", venv], check=True)
    proc = subprocess.run([python, "-m", "pip", "install", "-q", f"tempest=={TEMPEST_VERSION}",
                           *(f"{name}=={version}" for name, version in PLUGINS.items())],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise RuntimeError(f"installing tempest {TEMPEST_VERSION} failed")
    return tempest
