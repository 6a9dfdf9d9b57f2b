"""A stopped server stays stopped through rebuild and resize (confirm or revert), as in Nova."""

from __future__ import annotations

import io
import time
import uuid
from typing import Any

from tests.functional.compute.conftest import ComputeCloud
from tests.functional.compute.conftest import boot as _boot
from tests.functional.compute.conftest import wait_for_status as _wait

SHUTDOWN = 4  # power_state as the API shows it


def _guest_power(cloud: ComputeCloud, server_id: str) -> int:
    """The power state the hypervisor (a fake driver) holds for the server's guest."""
    drivers = [*cloud.drivers.values(), *(item.driver for item in cloud.aio.running if hasattr(item, "driver"))]
    return next(d.power_state(server_id) for d in drivers if server_id in d.specs)


def _assert_stopped(conn: Any, cloud: ComputeCloud, server_id: str) -> None:
    # Longer than the power state sync interval (1 s here), so a sync that would start it again shows.
    time.sleep(2.5)
    server = conn.compute.get_server(server_id)
    assert (server.status, server.vm_state, server.task_state, server.power_state) == (
        "SHUTOFF", "stopped", None, SHUTDOWN)
    assert _guest_power(cloud, server_id) == SHUTDOWN


def _stopped_server(cloud: ComputeCloud, image_id: str, flavor_id: str) -> Any:
    conn = cloud.connection()
    server = _wait(conn, _boot(cloud, image_id, flavor_id).id, "ACTIVE")
    conn.compute.stop_server(server)
    return _wait(conn, server.id, "SHUTOFF")


def test_rebuild_keeps_a_stopped_server_stopped(cloud: ComputeCloud, image_id: str, flavor_id: str) -> None:
    conn = cloud.connection()
    server = _stopped_server(cloud, image_id, flavor_id)
    other = conn.image.create_image(name="other", disk_format="raw", container_format="bare",
                                    data=io.BytesIO(b"\2" * 4096))
    conn.compute.rebuild_server(server, image=other.id, name="rebuilt-stopped")
    rebuilt = _wait(conn, server.id, "SHUTOFF")
    assert rebuilt.image.id == other.id and rebuilt.name == "rebuilt-stopped"
    _assert_stopped(conn, cloud, server.id)
    # It starts from there like any stopped server.
    conn.compute.start_server(server)
    assert _wait(conn, server.id, "ACTIVE").power_state == 1
    conn.compute.delete_server(server.id)


def test_resize_confirm_and_revert_keep_a_stopped_server_stopped(cloud: ComputeCloud, image_id: str,
                                                                 flavor_id: str) -> None:
    conn = cloud.connection()
    bigger = conn.compute.create_flavor(name=f"m1.stopped-{uuid.uuid4().hex[:4]}", ram=1024, vcpus=2, disk=2)
    server = _stopped_server(cloud, image_id, flavor_id)

    conn.compute.resize_server(server, bigger.id)
    resized = _wait(conn, server.id, "VERIFY_RESIZE")
    assert resized.flavor["vcpus"] == 2 and resized.power_state == SHUTDOWN
    assert _guest_power(cloud, server.id) == SHUTDOWN
    conn.compute.revert_server_resize(server)
    assert _wait(conn, server.id, "SHUTOFF").flavor["vcpus"] == 1
    _assert_stopped(conn, cloud, server.id)

    conn.compute.resize_server(server, bigger.id)
    _wait(conn, server.id, "VERIFY_RESIZE")
    conn.compute.confirm_server_resize(server)
    assert _wait(conn, server.id, "SHUTOFF").flavor["original_name"] == bigger.name
    _assert_stopped(conn, cloud, server.id)
    conn.compute.delete_server(server.id)
