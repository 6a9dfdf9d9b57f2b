"""A restarted conductor ends the resizes and moves a stopped one left half done.

Each test brings an instance, through the real services, to the point where a
conductor stopped (its next message lost), then runs the recovery a starting
conductor runs, with the cut-off "everything before now".
"""

from __future__ import annotations

import datetime
import time
import uuid as uuidlib
from typing import Any

import sqlalchemy as sa

from nubis.common import clients, context, rpc
from nubis.common.clients.placement import PlacementClient
from nubis.common.db import types
from nubis.compute.agent.rpcapi import ComputeAgentAPI
from nubis.compute.conductor import allocations
from nubis.compute.conductor.recovery import ConductorRecovery
from nubis.compute.conductor.rpcapi import ConductorAPI
from nubis.compute.core.instances import InstanceStore
from nubis.compute.db.models import ComputeNode, Instance, Migration
from nubis.scheduler.rpcapi import SchedulerAPI
from tests.functional.compute.conftest import ComputeCloud, boot, wait_for_status
from tests.functional.compute.test_hosts import _held_on


def _recovery(cloud: ComputeCloud) -> ConductorRecovery:
    runtime = cloud.aio.runtime
    assert runtime is not None
    db = runtime.database("compute")
    return ConductorRecovery(db, InstanceStore(db), SchedulerAPI(runtime.messaging, 30),
                             rpc.Notifier(runtime.messaging, "conductor", "test"),
                             PlacementClient(clients.service_adapter(runtime.conf, "placement")),
                             ComputeAgentAPI(runtime.messaging, 30))


def _set(cloud: ComputeCloud, server_id: str, **values: Any) -> None:
    assert cloud.aio.runtime is not None
    with cloud.aio.runtime.database("compute").writer() as s:
        s.execute(sa.update(Instance).where(Instance.uuid == server_id).values(**values))


def _fault(cloud: ComputeCloud, server_id: str) -> str:
    """The instance's latest fault (the API shows faults of servers in ERROR only)."""
    assert cloud.aio.runtime is not None
    db = cloud.aio.runtime.database("compute")
    with db.reader() as s:
        return str(InstanceStore(db).latest_faults(s, [server_id])[server_id].message)


def _later() -> datetime.datetime:
    time.sleep(0.01)
    return types.utcnow()


def test_an_interrupted_resize_gives_back_the_new_flavors_claim(cloud: ComputeCloud, image_id: str,
                                                                flavor_id: str) -> None:
    conn = cloud.connection()
    server = wait_for_status(conn, boot(cloud, image_id, flavor_id, availability_zone="nova:compute-2").id, "ACTIVE")
    recovery = _recovery(cloud)
    # Where a conductor stops inside a resize: the API set resize_prep, the conductor claimed the new flavor.
    _set(cloud, server.id, task_state="resize_prep")
    with recovery.db.reader() as s:
        provider = s.scalar(sa.select(ComputeNode.uuid).where(ComputeNode.host == "compute-2"))
    bigger = {**server.flavor, "name": "bigger", "vcpus": 2, "memory_mb": 1024, "root_gb": 2, "swap": 0}
    assert recovery.placement.reallocate(server.id, provider, allocations.flavor_resources(bigger))

    assert recovery.run(_later()) == 1
    server = wait_for_status(conn, server.id, "ACTIVE")
    assert server.task_state is None and "resize of instance" in _fault(cloud, server.id)
    held = recovery.placement.allocations(server.id)["allocations"]
    assert [a["resources"] for a in held.values()] == [{"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}]
    conn.compute.delete_server(server.id)


def test_an_interrupted_move_is_undone(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    server = wait_for_status(conn, boot(cloud, image_id, flavor_id, availability_zone="nova:compute-2").id, "ACTIVE")
    runtime = cloud.aio.runtime
    assert runtime is not None
    # Where a conductor stops inside a cold migration: recorded and scheduled (the source's resources parked
    # on the migration, the destination claimed by the instance), its "execute" message lost.
    migration = str(uuidlib.uuid4())
    _set(cloud, server.id, task_state="resize_prep")
    with runtime.database("compute").writer() as s:
        s.add(Migration(uuid=migration, instance_uuid=server.id, project_id="p", user_id="u",
                        migration_type="migration", status="pre-migrating", source_host="compute-2",
                        source_node="compute-2", flavor=server.flavor))
    ctx = context.admin_context()
    assert ConductorAPI(runtime.messaging, 30).schedule_move(ctx, migration, "compute-3") is None
    assert _held_on(cloud, migration) == {"compute-2"} and _held_on(cloud, server.id) == {"compute-3"}

    assert _recovery(cloud).run(_later()) == 1
    server = wait_for_status(conn, server.id, "ACTIVE")
    assert server.task_state is None and server.compute_host == "compute-2"
    assert "migration of instance" in _fault(cloud, server.id) and "interrupted" in _fault(cloud, server.id)
    assert _held_on(cloud, server.id) == {"compute-2"} and _held_on(cloud, migration) == set()
    with runtime.database("compute").reader() as s:
        assert s.scalar(sa.select(Migration.status).where(Migration.uuid == migration)) == "error"
    assert server.id in cloud.drivers["compute-2"].list_guests()
    assert server.id not in cloud.drivers["compute-3"].list_guests()
    conn.compute.delete_server(server.id)


def test_a_local_delete_the_api_never_finished_ends_in_error(cloud: ComputeCloud, image_id: str,
                                                             flavor_id: str) -> None:
    conn = cloud.connection()
    server = wait_for_status(conn, boot(cloud, image_id, flavor_id, availability_zone="nova:compute-2").id, "ACTIVE")
    # Where an API stops inside a local delete: the server marked deleting, with no (live) host holding it.
    _set(cloud, server.id, task_state="deleting", host=None, node=None)
    assert _recovery(cloud).run(_later()) == 1
    server = wait_for_status(conn, server.id, "ERROR")
    assert server.task_state is None and "delete of instance" in _fault(cloud, server.id)
    assert _held_on(cloud, server.id) == set()  # what it held goes back; the delete sent again ends it
    conn.compute.delete_server(server.id)
    conn.compute.wait_for_delete(server, wait=30)
