"""QoS on the data plane: a 10 Mbit/s bandwidth_limit rule set through the API limits what a guest sends,
measured with iperf3 between two namespaced guests on one host, and lifting it restores the full rate;
neither guest is restarted (the agent changes ``tc`` on the tap live). A dscp_marking rule rewrites the
DSCP field of what a guest sends, as counted by the receiving guest's own iptables, until the rule or the
port goes."""

from __future__ import annotations

import json
import re
import subprocess
from typing import Any

import pytest

from tests import fixtures
from tests.e2e.network import sim
from tests.e2e.network.conftest import HOST_A
from tests.e2e.network.test_dataplane import Tenant

pytestmark = pytest.mark.e2e

LIMIT_KBPS = 10_000  # 10 Mbit/s
PINGS = 5
EF, AF11 = 46, 10  # DSCP code points (the TOS byte is the code point << 2)
IPERF_PORT = 5201  # inside the test's own namespaces: no clash with anything on the machine


@pytest.fixture(scope="module")
def green(cloud) -> Any:  # type: ignore[no-untyped-def]
    tenant = Tenant(cloud, "10.9.0.0/24")
    yield tenant
    tenant.cleanup()


def _throughput_mbits(client: sim.Guest, server_ip: str) -> float:
    """iperf3 TCP from ``client`` to ``server_ip`` for 3 s (the first second, slow start and the policer's
    burst, left out); the receiver's rate in Mbit/s."""
    out = sim.in_ns(client.name, "iperf3", "-c", server_ip, "-p", str(IPERF_PORT), "-t", "3", "-O", "1", "-J",
                    timeout=30).stdout
    return float(json.loads(out)["end"]["sum_received"]["bits_per_second"]) / 1e6


def _tc(tap: str) -> str:
    return sim.in_ns(HOST_A, "tc", "qdisc", "show", "dev", tap).stdout


def test_bandwidth_limit_applies_and_lifts_live(cloud, green, tmp_path):
    sender, sender_port = green.boot(HOST_A, str(tmp_path))
    receiver, _ = green.boot(HOST_A, str(tmp_path))
    sender.dhcp()
    server_ip = receiver.dhcp()
    tap = "tap" + sender_port.id[:11]
    server = subprocess.Popen(["ip", "netns", "exec", receiver.name, "iperf3", "-s", "-p", str(IPERF_PORT)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert sender.can_reach(server_ip)
        fixtures.wait_until(lambda: sim.in_ns(receiver.name, "ss", "-ltn").stdout.count(f":{IPERF_PORT}") > 0,
                            what="iperf3 listening")
        before = _throughput_mbits(sender, server_ip)
        assert before > 3 * LIMIT_KBPS / 1000, f"unlimited rate only {before:.1f} Mbit/s"

        admin = green.admin
        policy = admin.network.post("/qos/policies", json={"policy": {
            "name": "ten-mbit", "project_id": green.creds.project_id}}).json()["policy"]
        rule = admin.network.post(f"/qos/policies/{policy['id']}/bandwidth_limit_rules", json={
            "bandwidth_limit_rule": {"max_kbps": LIMIT_KBPS, "direction": "egress"}}).json()["bandwidth_limit_rule"]
        green.conn.network.update_port(sender_port.id, qos_policy_id=policy["id"])
        fixtures.wait_until(lambda: "ingress" in _tc(tap), what=f"policer on {tap}")
        limited = _throughput_mbits(sender, server_ip)
        assert abs(limited - LIMIT_KBPS / 1000) <= 0.15 * LIMIT_KBPS / 1000, f"limited rate {limited:.2f} Mbit/s"

        # Removing the rule (the policy stays on the port) lifts the limit, live.
        admin.network.delete(f"/qos/policies/{policy['id']}/bandwidth_limit_rules/{rule['id']}")
        fixtures.wait_until(lambda: "ingress" not in _tc(tap), what=f"policer gone from {tap}")
        after = _throughput_mbits(sender, server_ip)
        assert after > 3 * LIMIT_KBPS / 1000, f"rate after removal only {after:.1f} Mbit/s"
        print(f"iperf3 guest->guest: before {before:.0f} Mbit/s, 10 Mbit/s rule {limited:.2f} Mbit/s, "
              f"after removal {after:.0f} Mbit/s")
        green.conn.network.update_port(sender_port.id, qos_policy_id=None)
        admin.network.delete(f"/qos/policies/{policy['id']}")
    finally:
        server.terminate()
        server.wait(timeout=10)


def _dscp_counts(guest: sim.Guest) -> dict[int, int]:
    """Packets the guest received per DSCP code point, from the counters ``_count_dscp`` set up."""
    out = sim.in_ns(guest.name, "iptables-save", "-c", "-t", "mangle").stdout
    return {int(m.group(2), 16): int(m.group(1))
            for m in re.finditer(r"^\[(\d+):\d+\] -A PREROUTING .*-m dscp --dscp (0x[0-9a-f]+)", out, re.M)}


def _count_dscp(guest: sim.Guest, source: str, marks: tuple[int, ...]) -> None:
    for mark in marks:  # counters only (no target): they change nothing in what the guest receives
        sim.in_ns(guest.name, "iptables", "-t", "mangle", "-A", "PREROUTING", "-s", source, "-p", "icmp",
                  "--icmp-type", "echo-request", "-m", "dscp", "--dscp", str(mark))


def _host_dscp_rules() -> str:
    return "".join(sim.in_ns(HOST_A, tool, "-t", "mangle", "-S", check=False).stdout
                   for tool in ("iptables", "ip6tables"))


def test_dscp_marking_rewrites_what_the_guest_sends_live(cloud, green, tmp_path):
    sender, sender_port = green.boot(HOST_A, str(tmp_path))
    receiver, _ = green.boot(HOST_A, str(tmp_path))
    sender_ip, receiver_ip = sender.dhcp(), receiver.dhcp()
    tap = "tap" + sender_port.id[:11]
    assert sender.can_reach(receiver_ip)
    _count_dscp(receiver, sender_ip, (0, AF11, EF))

    def pings_arrive_with(mark: int) -> None:
        before = _dscp_counts(receiver)
        assert sender.ping(receiver_ip, count=PINGS)
        after = _dscp_counts(receiver)
        got = {m: after[m] - before[m] for m in after}
        assert got == {m: PINGS if m == mark else 0 for m in after}, f"echo requests per DSCP mark: {got}"

    pings_arrive_with(0)  # busybox ping sends TOS 0

    admin = green.admin
    policy = admin.network.post("/qos/policies", json={"policy": {
        "name": "ef", "project_id": green.creds.project_id}}).json()["policy"]
    base = f"/qos/policies/{policy['id']}/dscp_marking_rules"
    rule = admin.network.post(base, json={"dscp_marking_rule": {"dscp_mark": EF}}).json()["dscp_marking_rule"]
    green.conn.network.update_port(sender_port.id, qos_policy_id=policy["id"])
    fixtures.wait_until(lambda: f"--physdev-in {tap} --physdev-is-bridged -j DSCP --set-dscp 0x2e" in _host_dscp_rules(),
                        what=f"DSCP rule for {tap}")
    pings_arrive_with(EF)

    # Changing the rule re-marks at once (no guest restart, the same resync as bandwidth limits).
    assert admin.network.put(f"{base}/{rule['id']}", json={"dscp_marking_rule": {"dscp_mark": AF11}}).status_code == 200
    fixtures.wait_until(lambda: "--set-dscp 0x0a" in _host_dscp_rules(), what="DSCP rule changed to AF11")
    pings_arrive_with(AF11)

    # Deleting the rule (the policy stays on the port) stops the marking and removes the chain.
    assert admin.network.delete(f"{base}/{rule['id']}").status_code == 204
    fixtures.wait_until(lambda: "nubis-qos-dscp" not in _host_dscp_rules(), what="DSCP chain removed")
    pings_arrive_with(0)

    # A marked port that goes takes its rule with it.
    admin.network.post(base, json={"dscp_marking_rule": {"dscp_mark": EF}})
    fixtures.wait_until(lambda: tap in _host_dscp_rules(), what=f"DSCP rule for {tap} again")
    green.conn.network.delete_port(sender_port.id)
    fixtures.wait_until(lambda: "nubis-qos-dscp" not in _host_dscp_rules(), what="DSCP chain removed with the port")
    admin.network.delete(f"/qos/policies/{policy['id']}")
