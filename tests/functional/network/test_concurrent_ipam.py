"""Concurrent port creation never hands one address to two ports, on every backend.

The requests go through the HTTP API from many threads, so several API
worker threads run their IPAM transactions at once against the database.
"""

from __future__ import annotations

import collections
import concurrent.futures
import uuid

from nubis.common import context
from nubis.common.db.engine import Database
from nubis.network import policies
from nubis.network.core import common as network_common
from nubis.network.core.facade import NetworkCore


def _create(conn, network_id):  # type: ignore[no-untyped-def]
    resp = conn.network.post("/ports", json={"port": {"network_id": network_id}}, raise_exc=False)
    if resp.status_code == 201:
        return resp.json()["port"]["fixed_ips"][0]["ip_address"]
    return resp.json()["NeutronError"]["type"]


def test_filling_a_subnet_from_ten_threads_gives_each_address_once(cloud, demo):
    _, conn = demo
    net = conn.network.create_network(name=f"race-{uuid.uuid4().hex[:6]}")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.200.0.0/26")  # 61 usable addresses
    conns = [cloud.connection(demo[0]) for _ in range(10)]
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        results = list(pool.map(lambda i: _create(conns[i % 10], net.id), range(70)))
    addresses = [r for r in results if r[0].isdigit()]
    failures = collections.Counter(r for r in results if not r[0].isdigit())
    assert len(addresses) == len(set(addresses)) == 61
    assert failures == {"IpAddressGenerationFailure": 9}
    ports = list(conn.network.ports(network_id=net.id))
    assert sorted(p.fixed_ips[0]["ip_address"] for p in ports) == sorted(addresses)


def test_two_api_workers_racing_for_the_same_address(cloud, demo):
    """Two cores (as two API processes would have) ask for the same address at once: exactly one wins."""
    creds, conn = demo
    net = conn.network.create_network(name=f"race-{uuid.uuid4().hex[:6]}")
    conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="10.201.0.0/24")
    runtime = cloud.aio.runtime
    url = runtime.database("network").url
    workers = [NetworkCore(runtime.conf, Database(url), policies.make(runtime.conf)) for _ in range(2)]
    ctx = context.RequestContext(user_id=creds.user_id, project_id=creds.project_id, roles=["member", "reader"])

    def claim(core):  # type: ignore[no-untyped-def]
        try:
            return core.ports.create(network_common.Caller(ctx, False),
                                     {"port": {"network_id": net.id, "fixed_ips": [{"ip_address": "10.201.0.77"}]}})
        except Exception as exc:  # noqa: BLE001 - the loser's error is the point
            return exc

    for _ in range(5):
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(claim, workers))
        wins = [o for o in outcomes if isinstance(o, dict)]
        losses = [o for o in outcomes if not isinstance(o, dict)]
        assert len(wins) == 1 and len(losses) == 1
        assert getattr(losses[0], "error_type", "") == "IpAddressAlreadyAllocated"
        conn.network.delete_port(wins[0]["id"])
    for core in workers:
        core.db.dispose()
