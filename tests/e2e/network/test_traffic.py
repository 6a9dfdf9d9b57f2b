"""Outbound traffic measured on the real data plane: a guest (a namespace on a simulated host) sends datagrams, its
host's network agent reports the tap's counter as ``network.outgoing.bytes``, and the metering collector bills
the growth as outbound GB."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest
import sqlalchemy as sa

from nubis.cmd import common
from nubis.common import config
from nubis.common.db import migration
from nubis.common.db.engine import Database
from nubis.metering import db as metering_db
from nubis.metering import service as metering_service
from nubis.metering.core.facade import MeteringCore
from nubis.metering.core.sources import Sources
from nubis.metering.db.models import UsageRecord
from tests import fixtures
from tests.e2e.network import sim
from tests.e2e.network.conftest import HOST_B, UNDERLAY_B, agent_options
from tests.e2e.network.test_dataplane import Tenant

pytestmark = pytest.mark.e2e
DATAGRAMS, SIZE = 1000, 1400


class Samples:
    """The ``network.outgoing.bytes`` notifications, as a listener pool of the test receives them."""

    def __init__(self) -> None:
        self.seen: list[tuple[dict[str, Any], dict[str, Any]]] = []
        self.lock = threading.Lock()

    def info(self, ctxt: Any, publisher_id: str, event_type: str, payload: dict[str, Any],
             metadata: dict[str, Any]) -> None:
        if event_type == "network.outgoing.bytes":
            with self.lock:
                self.seen.append((payload, metadata))

    def of(self, port_id: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        with self.lock:
            return [s for s in self.seen if s[0]["port_id"] == port_id]


@pytest.fixture(scope="module")
def samples(cloud: Any) -> Iterator[Samples]:
    """Host B's agent reporting every second, and what it sends."""
    found = Samples()
    listener = oslo_messaging.get_notification_listener(
        cloud.aio.runtime.messaging.notification_transport, [oslo_messaging.Target(topic="versioned_notifications")],
        [found], executor="threading", pool="traffic-test")
    listener.start()
    options = agent_options(HOST_B, UNDERLAY_B, l3=False)
    cloud.restart_agent(HOST_B, {**options, "traffic_interval": "1"})
    try:
        yield found
    finally:
        cloud.restart_agent(HOST_B, options)
        listener.stop()
        listener.wait()


def test_guest_outbound_bytes_are_metered(cloud: Any, samples: Samples, tmp_path: Any) -> None:
    tenant = Tenant(cloud, "10.7.0.0/24")
    try:
        guest, port = tenant.boot(HOST_B, str(tmp_path))
        guest.dhcp()
        dhcp_ip = next(p.fixed_ips[0]["ip_address"] for p in tenant.admin.network.ports(network_id=tenant.net.id)
                       if p.device_owner == "network:dhcp")
        before = fixtures.wait_until(lambda: samples.of(port.id), timeout=30, what="a first traffic sample")
        baseline = before[-1][0]["bytes"]
        assert before[-1][0]["project_id"] == tenant.creds.project_id and before[-1][0]["host"] == HOST_B
        sim.in_ns(guest.name, "python3", "-c",
                  "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                  f"for _ in range({DATAGRAMS}): s.sendto(b'x' * {SIZE}, ('{dhcp_ip}', 9))")
        sent = DATAGRAMS * (SIZE + 42)  # UDP, IP and Ethernet headers on each
        after = fixtures.wait_until(lambda: [s for s in samples.of(port.id) if s[0]["bytes"] >= baseline + sent],
                                    timeout=30, what=lambda: f"the tap's counter to grow by {sent} from {baseline}; "
                                    f"samples {[s[0]['bytes'] for s in samples.of(port.id)]}")
        assert after[0][0]["bytes"] - baseline < sent * 1.1  # the datagrams, and little else (ARP, DHCP)

        # The collector, on a scratch ledger, bills what the samples say grew.
        scratch = Database(f"sqlite:///{tmp_path}/ledger.sqlite")
        migration.upgrade(scratch, metering_db.migration_repo())
        conf = common.build_conf([metering_service.SERVICE])
        config.parse_args(conf, [], default_config_files=[])
        core = MeteringCore(conf, scratch, Sources(None, None, None))
        applied = samples.of(port.id)
        for payload, metadata in applied:
            core.collector.handle("network.outgoing.bytes", payload, metadata)
        # The first sample is the baseline; the growth after it is recorded.
        assert _recorded(core, port.id) == applied[-1][0]["bytes"] - applied[0][0]["bytes"] >= sent
    finally:
        tenant.cleanup()


def _recorded(core: MeteringCore, port_id: str) -> int:
    """The bytes recorded for ``port_id`` (every hour)."""
    with core.db.reader() as s:
        return int(s.scalar(sa.select(sa.func.coalesce(sa.func.sum(UsageRecord.quantity), 0))
                            .where(UsageRecord.resource_id == port_id, UsageRecord.meter == "outbound_gb")))
