"""Commands run in-process set up logging for themselves (oslo.log): put it back after each test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _logging_restored(restore_logging: None) -> None:
    """Every test here runs ``restore_logging`` (tests/conftest.py)."""
