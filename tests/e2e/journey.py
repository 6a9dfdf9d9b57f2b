"""A newcomer's first VM, step by step as the README tells it; shared by the all-in-one and devstack tests.

A new non-admin user in a new project uploads the test image, builds a
network with a router to the external network, opens ICMP and TCP 7777,
adds a keypair and boots two servers. Both read their own metadata; the
second pings and calls the first from inside; a floating IP reaches the
first from the outside namespace; a snapshot boots a third; usage counts
them. Then everything is deleted and the hosts must hold no domain, tap,
bridge, namespace, rule, dnsmasq or instance file of ours.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Sequence
from typing import Any

from tests import fixtures
from tests.e2e.guests import console_until, domains, upload_test_image
from tests.e2e.network.sim import in_ns, sh
from tests.functional.compute.conftest import wait_for_status

PUBLIC_CIDR = "172.24.4.0/24"


def tcp_banner(ns: str, address: str, attempts: int = 20) -> str:
    """What TCP 7777 of ``address`` answers, asked from namespace ``ns`` ("" if nothing does)."""
    for _ in range(attempts):
        out = in_ns(ns, "busybox", "nc", "-w", "2", address, "7777", check=False).stdout.strip()
        if out:
            return out
        time.sleep(1)
    return ""


def public_network(admin: Any, gateway: str) -> Any:
    """The admin's external network (flat on physnet "public"), as devstack makes one."""
    existing = next(iter(admin.network.networks(name="public")), None)
    if existing is not None:
        return existing
    public = admin.network.create_network(name="public", is_router_external=True, provider_network_type="flat",
                                          provider_physical_network="public")
    admin.network.create_subnet(network_id=public.id, ip_version=4, cidr=PUBLIC_CIDR, enable_dhcp=False,
                                gateway_ip=gateway, allocation_pools=[{"start": "172.24.4.100",
                                                                       "end": "172.24.4.200"}])
    return public


def host_is_clean(host_ns: str, marker: str) -> bool:
    """No taps, tenant bridges, DHCP/router namespaces, rules or dnsmasq of ours on a host.

    ``host_ns`` is the host's namespace ("" for this machine's own stack); ``marker`` is a string only
    our dnsmasq command lines contain (the agent's state path).
    """
    prefix = f"{host_ns}-" if host_ns else ""
    links = sh("ip", *(["-n", host_ns] if host_ns else []), "-o", "link", "show").stdout
    namespaces = [n for n in sh("ip", "netns", "list").stdout.split()
                  if n.startswith((f"{prefix}qdhcp-", f"{prefix}qrouter-"))]
    run = (lambda *c: in_ns(host_ns, *c)) if host_ns else sh
    rules = run("iptables", "-S").stdout + run("ip6tables", "-S").stdout
    dnsmasq = [p for p in sh("ps", "-eo", "args").stdout.splitlines() if p.startswith("dnsmasq") and marker in p]
    return ": tap" not in links and ": brq" not in links and not namespaces and "nubis-" not in rules \
        and not dnsmasq


def first_vm(cloud: Any, workdir: str, outside: str, gateway: str, hosts: Sequence[str],
             instance_dirs: Sequence[str], marker: str = "network-agent") -> None:
    admin = cloud.connection()
    creds = cloud.new_user(roles=("member", "reader"), prefix="newcomer")
    conn = cloud.connection(creds)
    public = public_network(admin, gateway)
    image = conn.image.get_image(upload_test_image(conn, os.path.join(workdir, "image"), visibility="private"))
    assert image.visibility == "private" and image.owner == creds.project_id
    flavor = next(iter(admin.compute.flavors(name="g1.tiny")), None) or \
        admin.compute.create_flavor(name="g1.tiny", ram=256, vcpus=1, disk=1)
    net = conn.network.create_network(name="first-net")
    subnet = conn.network.create_subnet(network_id=net.id, ip_version=4, cidr="192.168.10.0/24",
                                        dns_nameservers=["192.0.2.53"])
    router = conn.network.create_router(name="first-router", external_gateway_info={"network_id": public.id})
    conn.network.add_interface_to_router(router, subnet_id=subnet.id)
    default = next(g for g in conn.network.security_groups() if g.name == "default")
    for protocol, low in (("icmp", None), ("tcp", 7777)):
        conn.network.create_security_group_rule(security_group_id=default.id, direction="ingress",
                                                protocol=protocol, port_range_min=low, port_range_max=low,
                                                remote_ip_prefix="0.0.0.0/0")
    key = conn.compute.create_keypair(name="first-key")
    booted: list[str] = []
    try:
        _walk(cloud, conn, creds, public, image, flavor, net, key, booted, outside)
    finally:
        for server_id in booted:  # whatever happened, no guest outlives the test
            conn.compute.delete_server(server_id, ignore_missing=True)
        for server_id in booted:
            fixtures.wait_until(lambda s=server_id: conn.compute.find_server(s) is None, timeout=60,
                                what=f"server {server_id} to go")
    conn.network.remove_interface_from_router(router, subnet_id=subnet.id)
    conn.network.delete_router(router)
    conn.network.delete_network(net)
    conn.compute.delete_keypair(key)
    conn.image.delete_image(image)
    assert domains() == []
    for host in hosts:
        fixtures.wait_until(lambda h=host: host_is_clean(h, marker), timeout=30, what=f"host {host!r} to be clean")
    assert all(not [f for f in os.listdir(d) if f != "_base"] for d in instance_dirs if os.path.isdir(d))


def _walk(cloud: Any, conn: Any, creds: Any, public: Any, image: Any, flavor: Any, net: Any, key: Any,
          booted: list[str], outside: str) -> None:
    def boot(name: str, image_id: str, **kwargs: Any) -> Any:
        server = conn.compute.create_server(name=name, image_id=image_id, flavor_id=flavor.id,
                                            networks=[{"uuid": net.id}], **kwargs)
        booted.append(server.id)
        return wait_for_status(conn, server.id, "ACTIVE", timeout=180)

    first = boot("first", image.id, key_name=key.name)
    first_ip = first.addresses["first-net"][0]["addr"]
    script = (f"#!/bin/sh\nfor i in $(seq 1 90); do ping -c 1 -W 1 {first_ip} >/dev/null && echo PING-OK && break; "
              f"done\nfor i in $(seq 1 90); do r=$(nc -w 2 {first_ip} 7777) && [ -n \"$r\" ] && echo \"PEER $r\" "
              f"&& break; sleep 1; done\n")
    second = boot("second", image.id, key_name=key.name, user_data=base64.b64encode(script.encode()).decode())
    for server in (first, second):
        text = console_until(conn, server, "NUBIS-READY", timeout=180)
        assert f"NUBIS-UUID={server.id}" in text and f"NUBIS-HOSTNAME={server.name}" in text
        assert "NUBIS-METADATA-SOURCE=metadata-service" in text and key.public_key.split()[1][:40] in text
    peer = console_until(conn, second, "NUBIS-USER-DATA: PEER", timeout=180)
    assert "NUBIS-USER-DATA: PING-OK" in peer and f"NUBIS-USER-DATA: PEER NUBIS-TCP {first.id}" in peer
    fip = conn.network.create_ip(floating_network_id=public.id,
                                 port_id=next(iter(conn.network.ports(device_id=first.id))).id)
    assert tcp_banner(outside, fip.floating_ip_address) == f"NUBIS-TCP {first.id}"
    assert in_ns(outside, "busybox", "ping", "-c", "1", "-W", "2", fip.floating_ip_address,
                 check=False).returncode == 0
    snapshot = conn.compute.create_server_image(first, name="first-snap", wait=True, timeout=180)
    third = boot("third", snapshot.id)
    assert f"NUBIS-UUID={third.id}" in console_until(conn, third, "NUBIS-READY", timeout=180)
    usage = cloud.openstack("usage", "show", "--project", creds.project_id, creds=creds)
    servers = usage["Servers"]
    assert (len(servers) if isinstance(servers, list) else int(servers)) == 3
    assert float(usage["CPU Hours"]) > 0
    # Everything goes (the servers in the caller), and the hosts are as they were.
    conn.network.delete_ip(fip)
    conn.image.delete_image(snapshot)
