"""A compute agent whose registration fails at start keeps trying instead of exiting.

On the HA devstack a restarted agent's inventory update was answered 500 (a deadlock), the agent
exited, and the servers it had been building stayed in BUILD.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests import fixtures
from tests.functional.compute.conftest import ComputeCloud, start_extra_agent

HOST = "compute-registering"


class _FailInventoryWrites:
    """The next ``times`` inventory inserts lose their connection (placement answers 500)."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.raised = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if self.raised < self.times and statement.startswith("INSERT INTO inventory"):
            self.raised += 1
            raise sa.exc.OperationalError(statement, parameters,
                                          Exception(2013, "Lost connection to MySQL server during query"))


@pytest.fixture
def failing_inventory_writes() -> Iterator[_FailInventoryWrites]:
    failing = _FailInventoryWrites(times=2)
    sa.event.listen(sa.engine.Engine, "before_cursor_execute", failing)
    try:
        yield failing
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", failing)


def test_agent_registers_once_placement_takes_its_inventory(cloud: ComputeCloud,
                                                            failing_inventory_writes: _FailInventoryWrites) -> None:
    _driver, running = start_extra_agent(cloud, HOST)  # returns once registered: 1 s, then 2 s between tries
    try:
        assert failing_inventory_writes.raised == 2
        conn = cloud.connection()
        fixtures.wait_until(lambda: any(h.name == HOST for h in conn.compute.hypervisors()), timeout=30,
                            what=f"hypervisor {HOST} to be listed")
        providers = cloud.openstack("resource", "provider", "list", "--name", HOST)
        assert len(providers) == 1
        inventory = cloud.openstack("resource", "provider", "inventory", "list", providers[0]["uuid"])
        assert {row["resource_class"] for row in inventory} >= {"VCPU", "MEMORY_MB"}
    finally:
        for item in reversed(running):
            item.stop()
