"""A newcomer's usual mistakes on the way to a first VM, through the ``openstack`` CLI: each answer
says what is wrong and what to do."""

from __future__ import annotations

import uuid
from typing import Any

from tests.functional.compute.conftest import wait_for_status


def _fails(cloud: Any, creds: Any, *args: str) -> str:
    proc = cloud.openstack(*args, creds=creds, check=False, json_output=False)
    assert proc.returncode != 0, proc.stdout
    return str(proc.stderr)


def test_boot_mistakes_are_explained(cloud, image_id, flavor_id):
    creds = cloud.new_user(roles=("member", "reader"))
    conn = cloud.connection(creds)
    net = conn.network.create_network(name="mine")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.40.0.0/24")
    base = ["server", "create", "--flavor", flavor_id, "--image", image_id, "--network", net.id]

    missing_image = str(uuid.uuid4())
    err = _fails(cloud, creds, "server", "create", "--flavor", flavor_id, "--image", missing_image,
                 "--network", net.id, "vm")
    assert f"Image {missing_image} could not be found" in err or f"No Image found for {missing_image}" in err

    queued = conn.image.create_image(name="empty", disk_format="raw", container_format="bare")
    err = _fails(cloud, creds, "server", "create", "--flavor", flavor_id, "--image", queued.id, "--network",
                 net.id, "vm")
    assert f"Image {queued.id} is not active" in err

    missing_net = str(uuid.uuid4())
    resp = conn.compute.post("/servers", raise_exc=False, json={"server": {
        "name": "vm", "imageRef": image_id, "flavorRef": flavor_id, "networks": [{"uuid": missing_net}]}})
    assert resp.status_code == 400 and f"Network {missing_net} could not be found" in resp.text

    err = _fails(cloud, creds, *base, "--security-group", "no-such-group", "vm")
    assert "no-such-group" in err

    huge = cloud.connection().compute.create_flavor(name=f"huge-{uuid.uuid4().hex[:4]}", ram=300_000, vcpus=1,
                                                    disk=1)
    server = cloud.openstack("server", "create", "--flavor", huge.id, "--image", image_id, "--network", net.id,
                             "too-big", creds=creds)
    shown = wait_for_status(conn, server["id"], "ERROR")
    assert "No valid host was found" in shown.fault["message"] and "MEMORY_MB" in shown.fault["message"]
    conn.compute.delete_server(shown)

    cloud.openstack("quota", "set", "--instances", "1", creds.project_id, json_output=False)
    first = cloud.openstack(*base, "first", creds=creds)
    err = _fails(cloud, creds, *base, "second")
    assert "Quota exceeded for instances" in err and "limit 1" in err
    conn.compute.delete_server(first["id"])


def test_network_mistakes_are_explained(cloud):
    creds = cloud.new_user(roles=("member", "reader"))
    conn = cloud.connection(creds)
    net = conn.network.create_network(name="mine")
    err = _fails(cloud, creds, "subnet", "create", "--network", net.id, "--subnet-range", "10.50.0.5/24", "s")
    assert "10.50.0.0/24" in err  # the cidr it meant
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.50.0.0/24")
    err = _fails(cloud, creds, "subnet", "create", "--network", net.id, "--subnet-range", "10.50.0.0/25", "t")
    assert "overlaps" in err
    err = _fails(cloud, creds, "router", "create", "--external-gateway", net.id, "r")
    assert "not an external network" in err or "external" in err
    port = conn.network.create_port(network_id=net.id)
    err = _fails(cloud, creds, "network", "delete", net.id)
    assert "ports still in use" in err
    conn.network.delete_port(port)
