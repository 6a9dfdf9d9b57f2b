"""Packaging: every file under nubis/ that the code reads at run time goes into the wheel.

The full proof is ``python -m tools.check_wheel`` (builds, installs and runs the
wheel, as CI does); this is the quick check of setup.cfg that needs no build.
"""

from __future__ import annotations

import configparser
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _package_data_patterns() -> dict[str, list[str]]:
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    section = cfg["options.package_data"]
    return {key: [p.strip() for p in value.splitlines() if p.strip()] for key, value in section.items()}


def _packages() -> list[pathlib.Path]:
    return sorted(p.parent for p in (ROOT / "nubis").rglob("__init__.py"))


def _wheel_files() -> set[pathlib.Path]:
    """What setuptools puts in the wheel: each package's modules, plus what package_data globs match
    relative to the package ("*" applies to every package)."""
    patterns = _package_data_patterns()
    files: set[pathlib.Path] = set()
    for package in _packages():
        files.update(package.glob("*.py"))
        name = ".".join(package.relative_to(ROOT).parts)
        for pattern in patterns.get("*", []) + patterns.get(name, []):
            files.update(p for p in package.glob(pattern) if p.is_file())
    return files


def _source_files() -> set[pathlib.Path]:
    return {
        p for p in (ROOT / "nubis").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def test_every_file_under_nubis_is_in_the_wheel() -> None:
    missing = sorted(str(p.relative_to(ROOT)) for p in _source_files() - _wheel_files())
    assert missing == [], "not packaged (add to [options.package_data] in setup.cfg): " + ", ".join(missing)


def test_each_migration_script_directory_is_complete_in_the_wheel() -> None:
    wheel = _wheel_files()
    directories = sorted({p.parent for p in (ROOT / "nubis").rglob("migrations/env.py")})
    assert len(directories) >= 6  # identity, image, placement, scheduler, compute, network
    for directory in directories:
        assert directory / "env.py" in wheel
        assert directory / "script.py.mako" in wheel
        versions = list((directory / "versions").glob("*.py"))
        assert versions and set(versions) <= wheel, directory

