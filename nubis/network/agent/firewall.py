"""Security groups as iptables rules on the bridged traffic of each guest port (stateful, anti-spoofing).

Every port with port security gets three chains: ``nubis-i<port>`` for what may
reach the guest, ``nubis-o<port>`` for what it may send, and ``nubis-s<port>``
that drops frames whose source address or MAC are not the port's (fixed IPs
and allowed address pairs). ``nubis-forward``, jumped to from FORWARD, sends
bridged traffic of each tap to its chains. The whole set is replaced at once
with ``iptables-restore --noflush``, so a rule change never leaves a gap; a
port without port security simply has no chains.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from nubis.network.agent.ip import Netns

PREFIX = "nubis-"
TOP = "nubis-forward"
PORT_PROTOCOLS = {"tcp", "udp", "sctp", "udplite", "6", "17", "132", "136"}
ICMP = {"icmp", "1"}
ICMP6 = {"ipv6-icmp", "icmpv6", "58"}
# What IPv6 needs to work at all (router solicitations/adverts, neighbour discovery, MLD).
ICMP6_ALWAYS_IN = ("130", "131", "132", "134", "135", "136")
ICMP6_ALWAYS_OUT = ("130", "131", "132", "133", "135", "136", "143")


def _chain(kind: str, port_id: str) -> str:
    return f"{PREFIX}{kind}{port_id[:10]}"


def _version(cidr: str) -> int:
    return ipaddress.ip_network(cidr, strict=False).version


def _match(rule: Mapping[str, Any], family: int, ingress: bool, remote: str | None) -> str:
    parts = []
    proto = rule.get("protocol")
    if proto is not None:
        proto = {"icmpv6": "ipv6-icmp", "58": "ipv6-icmp"}.get(proto, proto) if family == 6 else proto
        parts.append(f"-p {proto}")
        low, high = rule.get("port_range_min"), rule.get("port_range_max")
        if proto in PORT_PROTOCOLS and low is not None:
            parts.append(f"--dport {low}" if high in (None, low) else f"--dport {low}:{high}")
        elif (proto in ICMP or proto in ICMP6) and low is not None:
            flag = "--icmpv6-type" if family == 6 else "--icmp-type"
            parts.append(f"{flag} {low}" + (f"/{high}" if high is not None else ""))
    if remote:
        parts.append(f"-s {remote}" if ingress else f"-d {remote}")
    return " ".join(parts)


def port_rules(port: Mapping[str, Any], groups: Mapping[str, Any], members: Mapping[str, Sequence[str]],
               family: int) -> dict[str, list[str]]:
    """The three chains of one port for one address family: {chain name: [rule specs]}."""
    ingress, egress, spoof = (_chain(k, port["id"]) for k in ("i", "o", "s"))
    stateful = all(groups.get(g, {}).get("stateful", True) for g in port["security_groups"])
    ether = f"IPv{family}"
    chains: dict[str, list[str]] = {ingress: [], egress: [], spoof: []}
    if stateful:
        chains[ingress] += ["-m state --state RELATED,ESTABLISHED -j RETURN", "-m state --state INVALID -j DROP"]
    if family == 4:
        chains[ingress].append("-p udp --sport 67 --dport 68 -j RETURN")
        chains[egress].append("-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp --sport 68 --dport 67 -j RETURN")
    else:
        chains[ingress] += [f"-p ipv6-icmp --icmpv6-type {t} -j RETURN" for t in ICMP6_ALWAYS_IN]
        chains[egress] += [f"-s ::/128 -p ipv6-icmp --icmpv6-type {t} -j RETURN" for t in ("131", "135", "143")]
        chains[ingress].append("-p udp --sport 547 --dport 546 -j RETURN")
    chains[egress].append(f"-j {spoof}")
    if family == 4:
        chains[egress].append("-p udp --sport 67 --dport 68 -j DROP")  # no rogue DHCP servers
    else:
        chains[egress] += [f"-p ipv6-icmp --icmpv6-type {t} -j RETURN" for t in ICMP6_ALWAYS_OUT]
        chains[egress].append("-p ipv6-icmp --icmpv6-type 134 -j DROP")  # no rogue routers
    if stateful:
        chains[egress] += ["-m state --state RELATED,ESTABLISHED -j RETURN", "-m state --state INVALID -j DROP"]
    for gid in port["security_groups"]:
        for rule in groups.get(gid, {}).get("rules", []):
            if rule["ethertype"] != ether:
                continue
            chain = ingress if rule["direction"] == "ingress" else egress
            remotes: list[str | None]
            if rule.get("remote_group_id"):
                remotes = [f"{ip}/{32 if family == 4 else 128}" for ip in members.get(rule["remote_group_id"], [])
                           if _version(ip) == family]
            else:
                remotes = [rule.get("remote_ip_prefix")] if rule.get("remote_ip_prefix") else [None]
            for remote in remotes:
                chains[chain].append(f"{_match(rule, family, chain == ingress, remote)} -j RETURN".strip())
    chains[ingress].append("-j DROP")
    chains[egress].append("-j DROP")
    mac = port["mac"]
    sources = [ip["ip_address"] for ip in port["fixed_ips"]] + [
        p["ip_address"] for p in port.get("allowed_address_pairs", []) if p.get("mac_address", mac) == mac]
    for source in sources:
        if _version(source) == family:
            chains[spoof].append(f"-s {source} -m mac --mac-source {mac} -j RETURN")
    for pair in port.get("allowed_address_pairs", []):
        if pair.get("mac_address", mac) != mac and _version(pair["ip_address"]) == family:
            chains[spoof].append(f"-s {pair['ip_address']} -m mac --mac-source {pair['mac_address']} -j RETURN")
    if family == 6:
        chains[spoof].append(f"-s fe80::/64 -m mac --mac-source {mac} -j RETURN")
    chains[spoof].append("-j DROP")
    return chains


def ruleset(ports: Sequence[Mapping[str, Any]], security: Mapping[str, Any], family: int) -> dict[str, list[str]]:
    """Every nubis chain of the host for one family, ``nubis-forward`` first."""
    groups, members = security.get("groups", {}), security.get("members", {})
    chains: dict[str, list[str]] = {TOP: []}
    guarded = [p for p in ports if p["port_security_enabled"]]
    for port in guarded:
        chains[TOP].append(f"-m physdev --physdev-out {port['tap']} --physdev-is-bridged -j {_chain('i', port['id'])}")
        chains[TOP].append(f"-m physdev --physdev-in {port['tap']} --physdev-is-bridged -j {_chain('o', port['id'])}")
    for port in guarded:
        chains.update(port_rules(port, groups, members, family))
    if guarded:
        # Whatever the chains above returned from is allowed, even if FORWARD's policy drops.
        chains[TOP] += [f"-m physdev --physdev-out {p['tap']} --physdev-is-bridged -j ACCEPT" for p in guarded]
        chains[TOP] += [f"-m physdev --physdev-in {p['tap']} --physdev-is-bridged -j ACCEPT" for p in guarded]
    return chains


class Firewall:
    def __init__(self, host: Netns) -> None:
        self.host = host

    def apply(self, ports: Sequence[Mapping[str, Any]], security: Mapping[str, Any]) -> None:
        if not any(p["port_security_enabled"] for p in ports):
            if self._chains("iptables") or self._chains("ip6tables"):
                self.remove_all()  # the last guarded port went: leave the host's tables as we found them
            return
        self.host.sysctl("net.bridge.bridge-nf-call-iptables", "1")
        self.host.sysctl("net.bridge.bridge-nf-call-ip6tables", "1")
        for family, tool in ((4, "iptables"), (6, "ip6tables")):
            self._apply_family(tool, ruleset(ports, security, family))

    def _apply_family(self, tool: str, chains: dict[str, list[str]]) -> None:
        doc = ["*filter"] + [f":{name} - [0:0]" for name in chains]
        doc += [f"-A {name} {rule}" for name, rules in chains.items() for rule in rules]
        doc.append("COMMIT\n")
        self.host.exec(f"{tool}-restore", "--noflush", stdin="\n".join(doc))
        if not self._has_jump(tool):
            self.host.exec(tool, "-I", "FORWARD", "1", "-j", TOP)
        self._remove(tool, self._chains(tool) - set(chains))

    def _remove(self, tool: str, stale: set[str]) -> None:
        # Flush them all before deleting any: a chain cannot go while another one still jumps to it.
        for chain in stale:
            self.host.exec(tool, "-F", chain, check=False)
        for chain in stale:
            self.host.exec(tool, "-X", chain, check=False)

    def _has_jump(self, tool: str) -> bool:
        return f"-A FORWARD -j {TOP}" in self.host.exec(tool, "-S", "FORWARD")

    def _chains(self, tool: str) -> set[str]:
        return {line.split()[1] for line in self.host.exec(tool, "-S").splitlines()
                if line.startswith("-N ") and line.split()[1].startswith(PREFIX)}

    def remove_all(self) -> None:
        for tool in ("iptables", "ip6tables"):
            while self._has_jump(tool):
                self.host.exec(tool, "-D", "FORWARD", "-j", TOP)
            self._remove(tool, self._chains(tool))
