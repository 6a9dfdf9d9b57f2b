"""The newcomer's first VM against the HA devstack (NUBIS_HA=1), every request through the virtual IP.

Two copies of every API behind two HAProxy balancers sharing a keepalived VIP, Galera and a RabbitMQ
cluster under them, libvirt (qemu/TCG) guests: the journey must not notice any of it.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlparse

import pytest

from nubis import services
from tests.e2e import journey
from tests.e2e.libvirt_devstack import GATEWAY, libvirt_devstack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.ha,
    pytest.mark.ha_deploy,
    pytest.mark.skipif("network" not in services.available(), reason="needs the network service"),
]


def test_first_vm_through_the_vip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with libvirt_devstack(tmp_path, extra_env={"NUBIS_HA": "1"}, stack_timeout=1200) as stack:
        topology = json.loads((tmp_path / "state" / "topology.json").read_text())
        vip = topology["vip"]
        assert vip and urlparse(topology["auth_url"]).hostname == vip
        # Every endpoint in the catalog is the VIP's, so the journey below goes through the balancers.
        conn = stack.cloud.connection()
        catalog = conn.session.auth.get_access(conn.session).service_catalog.catalog
        urls = [e["url"] for service in catalog for e in service["endpoints"]]
        assert urls and all(urlparse(u).hostname == vip for u in urls), urls
        copies = [c for c in topology["components"] if c["kind"] == "api" and c["name"].endswith("-2")]
        assert {c["service"] for c in copies} >= {"identity", "image", "placement", "compute-api", "network"}
        journey.first_vm(stack.cloud, str(tmp_path / "work"), stack.outside, GATEWAY, hosts=("",),
                         instance_dirs=[stack.instances], marker=stack.state)
    assert not os.path.exists(stack.instances)
