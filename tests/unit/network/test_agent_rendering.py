"""What the agent writes for the kernel and dnsmasq, from a host state, without touching the host."""

from __future__ import annotations

from nubis.network.agent import dhcp, firewall, l3

PORT = {"id": "1234567890abcdef", "tap": "tap1234567890a", "mac": "fa:16:3e:00:00:05",
        "fixed_ips": [{"subnet_id": "s1", "ip_address": "10.0.0.5"}], "port_security_enabled": True,
        "security_groups": ["web"], "allowed_address_pairs": [{"ip_address": "10.0.0.200",
                                                               "mac_address": "fa:16:3e:00:00:05"}]}
SECURITY = {"groups": {"web": {"stateful": True, "rules": [
    {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 80, "port_range_max": 80,
     "remote_ip_prefix": "0.0.0.0/0", "remote_group_id": None},
    {"direction": "ingress", "ethertype": "IPv4", "protocol": "icmp", "port_range_min": None,
     "port_range_max": None, "remote_ip_prefix": None, "remote_group_id": "web"},
    {"direction": "egress", "ethertype": "IPv4", "protocol": None, "port_range_min": None, "port_range_max": None,
     "remote_ip_prefix": None, "remote_group_id": None}]}},
    "members": {"web": ["10.0.0.5", "10.0.0.6", "fd00::5"]}}


def test_port_chains_allow_only_the_rules_and_the_ports_own_addresses() -> None:
    chains = firewall.ruleset([PORT], SECURITY, 4)
    ingress, egress, spoof = (chains[f"nubis-{k}1234567890"] for k in "ios")
    assert "-p tcp --dport 80 -s 0.0.0.0/0 -j RETURN" in ingress
    assert "-p icmp -s 10.0.0.6/32 -j RETURN" in ingress and not any("fd00" in r for r in ingress)
    assert ingress[0].startswith("-m state --state RELATED,ESTABLISHED") and ingress[-1] == "-j DROP"
    assert "-j RETURN" in egress and egress[-1] == "-j DROP"
    assert "-p udp --sport 67 --dport 68 -j DROP" in egress  # no DHCP server inside the guest
    assert spoof == ["-s 10.0.0.5 -m mac --mac-source fa:16:3e:00:00:05 -j RETURN",
                     "-s 10.0.0.200 -m mac --mac-source fa:16:3e:00:00:05 -j RETURN", "-j DROP"]
    top = chains["nubis-forward"]
    assert top[0] == "-m physdev --physdev-out tap1234567890a --physdev-is-bridged -j nubis-i1234567890"


def test_no_chains_without_port_security_and_stateless_groups_skip_conntrack() -> None:
    assert firewall.ruleset([{**PORT, "port_security_enabled": False}], SECURITY, 4) == {"nubis-forward": []}
    stateless = {**SECURITY, "groups": {"web": {**SECURITY["groups"]["web"], "stateful": False}}}
    ingress = firewall.ruleset([PORT], stateless, 4)["nubis-i1234567890"]
    assert not any("state" in r for r in ingress)


NETWORK = {"id": "net", "mtu": 1450, "dns_domain": "openstacklocal.", "subnets": [
    {"id": "s1", "cidr": "10.0.0.0/24", "ip_version": 4, "gateway_ip": "10.0.0.1", "enable_dhcp": True,
     "dns_nameservers": ["192.0.2.53"], "host_routes": [{"destination": "198.51.100.0/24", "nexthop": "10.0.0.9"}]}],
    "hosts": [{"port_id": "p1", "mac": "fa:16:3e:00:00:05", "ip": "10.0.0.5", "hostname": "host-10-0-0-5",
               "extra_dhcp_opts": [{"opt_name": "domain-search", "opt_value": "example.org", "ip_version": 4}]}]}


def test_dnsmasq_gets_static_hosts_metadata_route_mtu_and_extra_options() -> None:
    assert dhcp.host_entries(NETWORK) == "fa:16:3e:00:00:05,set:port-p1,10.0.0.5,host-10-0-0-5.openstacklocal\n"
    opts = dhcp.options(NETWORK, {"s1": "10.0.0.2"}).splitlines()
    assert ("tag:subnet-s1,option:classless-static-route,169.254.169.254/32,10.0.0.2,198.51.100.0/24,10.0.0.9,"
            "0.0.0.0/0,10.0.0.1") in opts
    assert "tag:subnet-s1,option:mtu,1450" in opts and "tag:subnet-s1,option:dns-server,192.0.2.53" in opts
    assert "tag:port-p1,option:domain-search,example.org" in opts
    assert dhcp.ranges(NETWORK, 600) == ["--dhcp-range=set:subnet-s1,10.0.0.0,static,255.255.255.0,600s"]


def test_router_nat_puts_floating_ips_before_snat() -> None:
    router = {"enable_snat": True, "gateway": {"cidrs": ["172.24.4.101/24"]},
              "floating_ips": [{"floating_ip": "172.24.4.150", "fixed_ip": "10.0.0.5"}]}
    table = l3.nat_table(router, "qg-x").splitlines()
    dnat = table.index("-A PREROUTING -d 172.24.4.150/32 -j DNAT --to-destination 10.0.0.5")
    fip_snat = table.index("-A POSTROUTING -s 10.0.0.5/32 -o qg-x -j SNAT --to-source 172.24.4.150")
    snat = table.index("-A POSTROUTING -o qg-x -j SNAT --to-source 172.24.4.101")
    assert dnat < fip_snat < snat
    assert not any("SNAT --to-source 172.24.4.101" in r for r in l3.nat_table({**router, "enable_snat": False},
                                                                               "qg-x").splitlines())
