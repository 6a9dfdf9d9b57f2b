"""What every end-to-end test shares: a longer time limit than the suite's 300 s.

An e2e test starts whole deployments (devstack twice over, every service its own process) or boots real
guests under TCG emulation; on two busy cores one such test has taken more than five minutes, and a cut
in the middle leaves what it started running (its clean-up is what got cut).
"""

from __future__ import annotations

import pytest

E2E_TIMEOUT_S = 1200


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("timeout") is None and "tests/e2e/" in item.nodeid:
            item.add_marker(pytest.mark.timeout(E2E_TIMEOUT_S))
