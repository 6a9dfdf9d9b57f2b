"""A claim that lands after its server's delete is released by the host's agent, and nothing else is.

Seen on the HA devstack: a placement copy killed mid-claim made the scheduler send the claim again; it
landed seconds after the API had deleted the still unplaced server, and the conductor's release had
already failed. Nova's resource tracker releases such allocations; so does the agent
(``[compute] orphan_allocations_interval``).
"""

from __future__ import annotations

import uuid

from nubis.compute.agent import resources
from nubis.compute.agent.manager import ComputeAgent
from tests.functional.compute.conftest import ComputeCloud, boot, start_extra_agent, wait_for_status
from tests.functional.placement.conftest import placement_client


def test_agent_releases_allocations_of_deleted_instances_only(cloud: ComputeCloud, image_id: str,
                                                              flavor_id: str) -> None:
    host = f"late-claims-{uuid.uuid4().hex[:6]}"
    _driver, running = start_extra_agent(cloud, host)
    agent = next(item for item in running if isinstance(item, ComputeAgent))
    placement = placement_client(cloud)
    conn = cloud.connection()
    try:
        server = wait_for_status(conn, boot(cloud, image_id, flavor_id).id, "ACTIVE")
        conn.compute.delete_server(server)
        conn.compute.wait_for_delete(server, wait=30)
        rp = resources.provider_uuid(host)
        not_an_instance = str(uuid.uuid4())  # a migration holds allocations under its own uuid
        for consumer in (server.id, not_an_instance):
            resp = placement.put(f"/allocations/{consumer}", json={
                "allocations": {rp: {"resources": {"VCPU": 1, "MEMORY_MB": 64}}}, "consumer_generation": None,
                "project_id": conn.current_project_id, "user_id": conn.current_user_id,
                "consumer_type": "INSTANCE"})
            assert resp.status_code == 204, resp.text
        assert agent.release_deleted_allocations() == [server.id]
        assert placement.get(f"/allocations/{server.id}").json()["allocations"] == {}
        assert rp in placement.get(f"/allocations/{not_an_instance}").json()["allocations"]
        assert agent.release_deleted_allocations() == []
        placement.delete(f"/allocations/{not_an_instance}")
    finally:
        for item in reversed(running):
            item.stop()
