"""DHCP for a host's networks: one dnsmasq per network, in its own ``qdhcp-<network>`` namespace.

The namespace reaches the network's bridge through a veth pair (``tap<port>``
in the bridge, ``ns-<port>`` inside) carrying the DHCP port's addresses and
169.254.169.254, where the metadata proxy listens; guests get a route to it
through the DHCP address (option 121). Leases are static: dnsmasq only
answers MACs of the network's ports with their fixed IPs, so several hosts
serving one network agree. dnsmasq outlives the agent (restarting the agent
must not cut DHCP); it is found again through its pid file and reloaded with
SIGHUP when only the host entries change.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import shutil
import signal
import time
from collections.abc import Mapping, Sequence
from typing import Any

from nubis.network.agent.ip import CommandFailed, Netns, namespaces

LOG = logging.getLogger(__name__)

NS_PREFIX = "qdhcp-"
METADATA_IP = "169.254.169.254"


def namespace(network_id: str, host_prefix: str = "") -> str:
    """``qdhcp-<network>``; simulated hosts sharing a machine put their own name first."""
    return f"{host_prefix}{NS_PREFIX}{network_id}"


def host_entries(network: Mapping[str, Any]) -> str:
    domain = network["dns_domain"].rstrip(".")
    lines = []
    for h in network["hosts"]:
        if ipaddress.ip_address(h["ip"]).version != 4:
            continue
        name = f"{h['hostname']}.{domain}" if domain else h["hostname"]
        lines.append(f"{h['mac']},set:port-{h['port_id']},{h['ip']},{name}")
    return "\n".join(sorted(lines)) + "\n"


def options(network: Mapping[str, Any], dhcp_ips: Mapping[str, str]) -> str:
    """Per subnet: router, DNS, MTU and classless routes (metadata via this DHCP server); per port: extras."""
    lines = []
    for sub in network["subnets"]:
        if sub["ip_version"] != 4 or not sub["enable_dhcp"]:
            continue
        tag = f"tag:subnet-{sub['id']}"
        routes = [f"{METADATA_IP}/32,{dhcp_ips[sub['id']]}"] if sub["id"] in dhcp_ips else []
        routes += [f"{r['destination']},{r['nexthop']}" for r in sub["host_routes"]]
        if sub["gateway_ip"]:
            lines.append(f"{tag},option:router,{sub['gateway_ip']}")
            routes.append(f"0.0.0.0/0,{sub['gateway_ip']}")
        else:
            lines.append(f"{tag},option:router")
        if routes:
            lines.append(f"{tag},option:classless-static-route,{','.join(routes)}")
            lines.append(f"{tag},249,{','.join(routes)}")
        if sub["dns_nameservers"]:
            lines.append(f"{tag},option:dns-server,{','.join(sub['dns_nameservers'])}")
        lines.append(f"{tag},option:mtu,{network['mtu']}")
    for h in network["hosts"]:
        for opt in h.get("extra_dhcp_opts") or []:
            if opt.get("ip_version", 4) == 4:
                name = opt["opt_name"] if opt["opt_name"].isdigit() else f"option:{opt['opt_name']}"
                lines.append(f"tag:port-{h['port_id']},{name},{opt['opt_value']}")
    return "\n".join(lines) + "\n"


def ranges(network: Mapping[str, Any], lease: int) -> list[str]:
    out = []
    for sub in network["subnets"]:
        if sub["ip_version"] == 4 and sub["enable_dhcp"]:
            net = ipaddress.ip_network(sub["cidr"])
            out.append(f"--dhcp-range=set:subnet-{sub['id']},{net.network_address},static,{net.netmask},{lease}s")
    return out


class Dhcp:
    def __init__(self, host: Netns, state_dir: str, lease: int, proxies: Any) -> None:
        self.host = host
        self.prefix = f"{host.name}-" if host.name else ""
        self.state_dir = os.path.join(state_dir, "dhcp")
        self.lease = lease
        self.proxies = proxies

    def _dir(self, network_id: str) -> str:
        return os.path.join(self.state_dir, network_id)

    def apply(self, networks: Sequence[Mapping[str, Any]], dhcp_ports: Sequence[Mapping[str, Any]],
              links: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Serve every network with a DHCP port here; returns the statuses of those ports."""
        by_id = {n["id"]: n for n in networks}
        statuses: dict[str, str] = {}
        wanted = set()
        for port in dhcp_ports:
            net = by_id.get(port["network_id"])
            if net is None:
                continue
            wanted.add(namespace(net["id"], self.prefix))
            try:
                self._serve(net, port, links)
                statuses[port["id"]] = "ACTIVE"
            except (CommandFailed, OSError) as exc:
                LOG.error("DHCP for network %s failed: %s", net["id"], exc)
                statuses[port["id"]] = "DOWN"
        mine = self.prefix + NS_PREFIX
        for ns in namespaces():
            network_id = ns[len(mine):]
            # Only namespaces this agent made (another simulated host on the machine has its own).
            if ns.startswith(mine) and ns not in wanted and os.path.isdir(self._dir(network_id)):
                self.remove(network_id, links)
        return statuses

    def _serve(self, net: Mapping[str, Any], port: Mapping[str, Any], links: dict[str, dict[str, Any]]) -> None:
        ns = Netns(namespace(net["id"], self.prefix))
        ns.create()
        inside = f"ns-{port['id'][:11]}"
        self.host.plug_veth(ns, port, inside, net["bridge"], net["mtu"], links)
        cidrs = self._cidrs(net, port)
        ns.set_addresses(inside, [*cidrs.values(), f"{METADATA_IP}/32"])
        self.proxies.ensure(ns.name, net["id"])
        self._dnsmasq(ns, net, inside, {sid: c.split("/")[0] for sid, c in cidrs.items()})

    @staticmethod
    def _cidrs(net: Mapping[str, Any], port: Mapping[str, Any]) -> dict[str, str]:
        prefix = {s["id"]: s["cidr"].split("/")[1] for s in net["subnets"]}
        return {ip["subnet_id"]: f"{ip['ip_address']}/{prefix[ip['subnet_id']]}" for ip in port["fixed_ips"]
                if ip["subnet_id"] in prefix}

    def _dnsmasq(self, ns: Netns, net: Mapping[str, Any], dev: str, dhcp_ips: Mapping[str, str]) -> None:
        directory = self._dir(net["id"])
        os.makedirs(directory, mode=0o700, exist_ok=True)
        files = {"host": host_entries(net), "opts": options(net, dhcp_ips)}
        args = ["dnsmasq", "--no-hosts", "--no-resolv", "--port=0", "--bind-interfaces", f"--interface={dev}",
                "--except-interface=lo", "--dhcp-authoritative", "--conf-file=/dev/null",
                # root: the lease file lives in the agent's private state directory
                "--user=root", "--group=root",
                f"--pid-file={directory}/pid", f"--dhcp-hostsfile={directory}/host",
                f"--dhcp-optsfile={directory}/opts", f"--dhcp-leasefile={directory}/leases",
                f"--domain={net['dns_domain'].rstrip('.')}", *ranges(net, self.lease)]
        changed = False
        for name, content in files.items():
            path = os.path.join(directory, name)
            old = open(path).read() if os.path.exists(path) else None
            if old != content:
                changed = True
                with open(path, "w") as f:
                    f.write(content)
        pid = self._pid(net["id"])
        args_path = os.path.join(directory, "running-args")
        running_args = open(args_path).read() if os.path.exists(args_path) else None
        if pid is not None and running_args != "\n".join(args):
            self._stop(pid)  # ranges, interface or domain changed: only a restart applies them
            pid = None
        if pid is None:
            ns.exec(*args)
            with open(args_path, "w") as f:
                f.write("\n".join(args))
        elif changed:
            os.kill(pid, signal.SIGHUP)  # re-reads the host and option files

    def _pid(self, network_id: str) -> int | None:
        try:
            pid = int(open(os.path.join(self._dir(network_id), "pid")).read().strip())
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if network_id.encode() in f.read():
                    return pid
        except (OSError, ValueError):
            pass
        return None

    @staticmethod
    def _stop(pid: int) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        for _ in range(50):  # the next dnsmasq cannot bind until this one is gone
            if not os.path.exists(f"/proc/{pid}"):
                return
            time.sleep(0.05)

    def remove(self, network_id: str, links: dict[str, dict[str, Any]]) -> None:
        ns = namespace(network_id, self.prefix)
        self.proxies.remove(ns)
        pid = self._pid(network_id)
        if pid is not None:
            self._stop(pid)
        Netns(ns).delete()  # takes the inner veth end, and with it the outer one
        shutil.rmtree(self._dir(network_id), ignore_errors=True)
