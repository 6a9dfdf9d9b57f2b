"""An instance's metadata documents, in the OpenStack and EC2 layouts.

Served over HTTP by ``nubis-metadata`` and written to config drives by the
libvirt driver: one builder, so a guest reads the same answers either way.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import json
from collections.abc import Mapping, Sequence
from typing import Any

OPENSTACK_VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15", "2016-06-30", "2016-10-06",
                      "2017-02-22", "2018-08-27", "2020-10-14", "latest")
EC2_VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01",
                "2008-09-01", "2009-04-04", "latest")


def hostname_of(name: str) -> str:
    """A DNS label from a server name ("My Server_1" -> "my-server-1")."""
    cleaned = "".join(c if c.isalnum() or c == "-" else "-" for c in name.lower()).strip("-")
    return cleaned[:63] or "server"


@dataclasses.dataclass(frozen=True)
class InstanceFacts:
    uuid: str
    name: str
    project_id: str
    availability_zone: str | None = None
    metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)
    key_name: str | None = None
    key_data: str | None = None
    user_data: str | None = None  # base64, as the compute API took it
    flavor_name: str = ""

    @property
    def hostname(self) -> str:
        return hostname_of(self.name)

    @property
    def ec2_id(self) -> str:
        return f"i-{int(self.uuid.replace('-', '')[:8], 16):08x}"


def meta_data(f: InstanceFacts) -> dict[str, Any]:
    meta: dict[str, Any] = {"uuid": f.uuid, "name": f.name, "hostname": f.hostname, "launch_index": 0,
                            "availability_zone": f.availability_zone, "project_id": f.project_id,
                            "meta": dict(f.metadata), "devices": []}
    if f.key_data:
        meta["public_keys"] = {f.key_name or "key": f.key_data}
        meta["keys"] = [{"name": f.key_name or "key", "type": "ssh", "data": f.key_data}]
    return meta


def network_data(ports: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Links, networks and DNS services from the instance's ports (each with ``subnets`` details)."""
    links, networks, services = [], [], []
    for i, port in enumerate(ports):
        link = f"tap{port['id'][:11]}"
        links.append({"id": link, "vif_id": port["id"], "type": "bridge", "mtu": port.get("mtu"),
                      "ethernet_mac_address": port["mac_address"]})
        for j, ip in enumerate(port["fixed_ips"]):
            subnet = port["subnets"].get(ip["subnet_id"], {})
            net = ipaddress.ip_network(subnet.get("cidr", f"{ip['ip_address']}/32"), strict=False)
            kind = f"ipv{net.version}" + ("_dhcp" if net.version == 4 and subnet.get("enable_dhcp") else "")
            routes = [{"network": str(ipaddress.ip_network(r["destination"]).network_address),
                       "netmask": str(ipaddress.ip_network(r["destination"]).netmask), "gateway": r["nexthop"]}
                      for r in subnet.get("host_routes", [])]
            if subnet.get("gateway_ip"):
                routes.append({"network": "0.0.0.0" if net.version == 4 else "::",
                               "netmask": "0.0.0.0" if net.version == 4 else "::", "gateway": subnet["gateway_ip"]})
            networks.append({"id": f"network{i}-{j}", "type": kind, "link": link, "ip_address": ip["ip_address"],
                             "netmask": str(net.netmask), "routes": routes, "network_id": port["network_id"],
                             "services": [{"type": "dns", "address": d} for d in subnet.get("dns_nameservers", [])]})
            services += [{"type": "dns", "address": d} for d in subnet.get("dns_nameservers", [])
                         if {"type": "dns", "address": d} not in services]
    return {"links": links, "networks": networks, "services": services}


def openstack_files(f: InstanceFacts, ports: Sequence[Mapping[str, Any]] = ()) -> dict[str, bytes]:
    """``openstack/latest/...`` as a config drive carries it."""
    files = {"openstack/latest/meta_data.json": json.dumps(meta_data(f)).encode(),
             "openstack/latest/network_data.json": json.dumps(network_data(ports)).encode(),
             "openstack/latest/vendor_data.json": b"{}",
             "openstack/latest/vendor_data2.json": b"{}"}
    if f.user_data:
        files["openstack/latest/user_data"] = base64.b64decode(f.user_data)
    return files


def ec2_meta_data(f: InstanceFacts, local_ipv4: str | None, public_ipv4: str | None) -> dict[str, Any]:
    """The EC2 ``meta-data`` tree: leaves are strings, dicts are directories."""
    tree: dict[str, Any] = {
        "ami-id": "ami-00000001", "ami-launch-index": "0", "ami-manifest-path": "FIXME",
        "hostname": f.hostname, "instance-action": "none", "instance-id": f.ec2_id,
        "instance-type": f.flavor_name, "local-hostname": f.hostname, "local-ipv4": local_ipv4 or "",
        "public-hostname": f.hostname, "public-ipv4": public_ipv4 or "",
        "placement": {"availability-zone": f.availability_zone or ""}, "reservation-id": f"r-{f.uuid[:8]}",
        "security-groups": "default",
    }
    if f.key_data:
        tree["public-keys"] = {"0": {"openssh-key": f.key_data, "_name": f.key_name or "key"}}
    return tree
