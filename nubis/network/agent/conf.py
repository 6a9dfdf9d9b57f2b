"""Options of the per-host network agent."""

from __future__ import annotations

import os

from oslo_config import cfg

from nubis.network import conf as network_conf

GROUP = "network_agent"

OPTS = [
    cfg.StrOpt("dataplane", choices=["auto", "linux", "noop"], default="auto",
               help="linux: bridges, VXLAN, namespaces, dnsmasq and iptables (needs root). noop: wire nothing, "
                    "report bound ports ACTIVE (fake compute hosts). auto: linux as root, noop otherwise."),
    cfg.StrOpt("tunnel_ip", help="This host's address for VXLAN tunnels (required for vxlan networks)."),
    cfg.PortOpt("tunnel_port", default=4789, help="UDP port this host's VXLAN endpoints listen on."),
    cfg.DictOpt("bridge_mappings", default={},
                help="physical_network:interface pairs: the host interface flat and vlan networks use."),
    cfg.BoolOpt("l3", default=False, help="Run routers on this host (the first live L3 host by name runs them all)."),
    cfg.BoolOpt("dhcp", default=True, help="Serve DHCP and metadata for the networks of this host's guests."),
    cfg.StrOpt("host_namespace", default="",
               help="Network namespace that stands for this host's network stack (empty: the agent's own). "
                    "Lets several simulated hosts share one machine."),
    cfg.FloatOpt("poll_interval", default=1.0, min=0.1, help="Seconds between looks for new or gone tap devices."),
    cfg.IntOpt("resync_interval", default=30, min=1,
               help="Seconds between full resyncs with the network service, in case a notification was lost."),
    cfg.IntOpt("report_interval", default=10, min=1, help="Seconds between heartbeats."),
    cfg.IntOpt("traffic_interval", default=300, min=0,
               help="Seconds between reports of each guest's outbound bytes (its tap's counter) to the metering "
                    "service, as network.outgoing.bytes notifications; 0: not reported. Linux data plane only."),
    cfg.IntOpt("dhcp_lease_duration", default=86400, min=120, help="DHCP lease time handed to guests, seconds."),
    cfg.StrOpt("metadata_url", default="http://127.0.0.1:8775",
               help="Where the metadata proxies forward guests' requests (nubis-metadata)."),
    cfg.IntOpt("rpc_timeout", default=60, min=1, help="Seconds to wait for the network service to answer."),
]



def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [(GROUP, OPTS), (network_conf.METADATA_GROUP, network_conf.METADATA_OPTS)]


def state_dir(conf: cfg.ConfigOpts) -> str:
    return os.path.join(conf.state_path, "network-agent")
