"""``nubis-exporter``: cloud state for Prometheus at ``GET /metrics``.

Metric names follow the OpenStack community exporter (openstack-exporter) where it has one, so its
dashboards and alerts work unchanged: ``openstack_<service>_up``, ``openstack_nova_agent_state``,
``openstack_nova_vcpus_used``, ``openstack_placement_resource_usage``, ``openstack_nova_limits_*``,
``openstack_neutron_*``, ``openstack_glance_*``. What it lacks is named in the same style or ``nubis_*``:
``openstack_nova_agent_heartbeat_age_seconds``, ``openstack_nova_hypervisor_up``/``_enabled``,
``openstack_nova_servers`` (by status and project), ``nubis_quota_sum``/``nubis_capacity`` (the capacity
report), ``nubis_messaging_up`` (the broker answers a TCP connect) and ``nubis_exporter_read_seconds``.

One read of the cloud (``reader.CloudReader``) serves every scrape within ``[exporter] cache_seconds``.
"""

from __future__ import annotations

import datetime
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import oslo_messaging
import prometheus_client as prom
from oslo_config import cfg
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from nubis.api import metrics as api_metrics
from nubis.monitoring import capacity
from nubis.monitoring.reader import APIS, CloudReader, Snapshot

LOG = logging.getLogger(__name__)
MIB = 1024 * 1024
GIB = 1024 * MIB


def _parse_time(value: str | None) -> datetime.datetime | None:
    if not value:
        return None
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


def _gauge(name: str, doc: str, labels: Sequence[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=list(labels))


def broker_up(transport_url: str, timeout: float = 3.0) -> dict[str, int]:
    """Per broker host of a ``rabbit://`` transport: 1 when it accepts a TCP connection, else 0. In-process
    transports (tests, the single-process all-in-one) have no broker: empty."""
    url = oslo_messaging.TransportURL.parse(cfg.CONF, transport_url)
    if url.transport not in ("rabbit", "amqp", "kombu"):
        return {}
    out = {}
    for host in url.hosts:
        address = f"{host.hostname}:{host.port or 5672}"
        try:
            socket.create_connection((host.hostname, host.port or 5672), timeout=timeout).close()
            out[address] = 1
        except OSError:
            out[address] = 0
    return out


class CloudCollector(Collector):
    """A prometheus_client collector that turns a (cached) ``Snapshot`` into metric families."""

    def __init__(self, read: Callable[[], Snapshot], cache_seconds: float, transport_url: str | None = None,
                 region: str = "RegionOne", warn_ratio: float = 1.0) -> None:
        self._read = read
        self.cache_seconds = cache_seconds
        self.transport_url = transport_url
        self.region = region
        self.warn_ratio = warn_ratio
        self._lock = threading.Lock()
        self._snap: Snapshot | None = None
        self._read_at = 0.0

    def snapshot(self) -> Snapshot:
        """The cached read, or a new one when it is older than ``cache_seconds`` (one read at a time)."""
        with self._lock:
            if self._snap is None or time.monotonic() - self._read_at >= self.cache_seconds:
                self._snap = self._read()
                self._read_at = time.monotonic()
            return self._snap

    def collect(self) -> Iterator[GaugeMetricFamily]:
        snap = self.snapshot()
        yield from self._up(snap)
        yield from self._compute(snap)
        yield from self._placement(snap)
        yield from self._projects(snap)
        yield from self._network(snap)
        yield from self._images(snap)
        if self.transport_url:
            yield from self._messaging()

    def _up(self, snap: Snapshot) -> Iterator[GaugeMetricFamily]:
        for name in APIS:
            if name in snap.up:
                up = _gauge(f"openstack_{name}_up", f"1 when the {name} API answered the exporter's last read.")
                up.add_metric([], 1 if snap.up[name] else 0)
                yield up
        took = _gauge("nubis_exporter_read_seconds", "Seconds the exporter's last read of the cloud took.")
        took.add_metric([], snap.duration)
        yield took

    def _compute(self, snap: Snapshot) -> Iterator[GaugeMetricFamily]:
        if not snap.up.get("nova"):
            return
        now = snap.taken_at
        state = _gauge("openstack_nova_agent_state", "1 when the compute service reports (heartbeats within "
                       "service_down_time), else 0.", ["id", "hostname", "service", "adminState", "zone",
                                                       "disabledReason"])
        age = _gauge("openstack_nova_agent_heartbeat_age_seconds", "Seconds since the service's last heartbeat.",
                     ["hostname", "service"])
        forced = _gauge("openstack_nova_agent_forced_down", "1 when an admin forced the service down.",
                        ["hostname", "service"])
        for svc in snap.services:
            state.add_metric([str(svc["id"]), svc["host"], svc["binary"], svc["status"], svc.get("zone") or "",
                              svc.get("disabled_reason") or ""], 1 if svc["state"] == "up" else 0)
            seen = _parse_time(svc.get("updated_at"))
            if seen is not None:
                age.add_metric([svc["host"], svc["binary"]], max((now - seen).total_seconds(), 0.0))
            forced.add_metric([svc["host"], svc["binary"]], 1 if svc.get("forced_down") else 0)
        yield from (state, age, forced)

        per_host = {
            "openstack_nova_hypervisor_up": ("1 when the hypervisor's compute service is up.", None),
            "openstack_nova_hypervisor_enabled": ("1 when the hypervisor's compute service is enabled.", None),
            "openstack_nova_running_vms": ("Instances on the hypervisor.", "running_vms"),
            "openstack_nova_vcpus_available": ("vCPUs of the hypervisor (its total).", "vcpus"),
            "openstack_nova_vcpus_used": ("vCPUs its instances use.", "vcpus_used"),
            "openstack_nova_memory_available_bytes": ("RAM of the hypervisor (its total), bytes.", "memory_mb"),
            "openstack_nova_memory_used_bytes": ("RAM its instances use, bytes.", "memory_mb_used"),
            "openstack_nova_local_storage_available_bytes": ("Local disk of the hypervisor (its total), bytes.",
                                                             "local_gb"),
            "openstack_nova_local_storage_used_bytes": ("Local disk its instances use, bytes.", "local_gb_used"),
        }
        families = {name: _gauge(name, doc, ["hostname"]) for name, (doc, _) in per_host.items()}
        for hv in snap.hypervisors:
            host = hv.get("service", {}).get("host") or hv["hypervisor_hostname"]
            families["openstack_nova_hypervisor_up"].add_metric([host], 1 if hv["state"] == "up" else 0)
            families["openstack_nova_hypervisor_enabled"].add_metric([host], 1 if hv["status"] == "enabled" else 0)
            for name, (_, field) in per_host.items():
                if field is None or field not in hv:
                    continue
                scale = MIB if field.startswith("memory") else GIB if field.startswith("local") else 1
                families[name].add_metric([host], float(hv[field]) * scale)
        yield from families.values()

        total = _gauge("openstack_nova_total_vms", "Instances in the cloud (every project).")
        total.add_metric([], len(snap.servers))
        yield total
        counts: dict[tuple[str, str], int] = {}
        for server in snap.servers:
            key = (server["status"], server.get("tenant_id") or "")
            counts[key] = counts.get(key, 0) + 1
        by_state = _gauge("openstack_nova_servers", "Instances by status and project.", ["status", "tenant_id"])
        for (status, project), n in sorted(counts.items()):
            by_state.add_metric([status, project], n)
        yield by_state

    def _placement(self, snap: Snapshot) -> Iterator[GaugeMetricFamily]:
        if not snap.up.get("placement"):
            return
        fields = {"total": "Inventory total", "reserved": "Inventory reserved for the host",
                  "allocation_ratio": "Overcommit ratio", "usage": "Amount allocated to consumers"}
        families = {f: _gauge(f"openstack_placement_resource_{f}", f"{doc}, per provider and resource class.",
                              ["hostname", "resourcetype"]) for f, doc in fields.items()}
        for rp in snap.providers:
            for rc, inv in rp.get("inventories", {}).items():
                labels = [rp["name"], rc]
                for f in ("total", "reserved", "allocation_ratio"):
                    families[f].add_metric(labels, float(inv.get(f, 0)))
                families["usage"].add_metric(labels, float(rp.get("usages", {}).get(rc, 0)))
        yield from families.values()

    def _projects(self, snap: Snapshot) -> Iterator[GaugeMetricFamily]:
        if snap.up.get("identity"):
            projects = _gauge("openstack_identity_projects", "Projects in the cloud.")
            projects.add_metric([], len(snap.projects))
            yield projects
        if not snap.quotas:
            return
        names = {p["id"]: p["name"] for p in snap.projects}
        kinds = {"vcpus": "cores", "memory": "ram", "instances": "instances"}
        families = {}
        for kind in kinds:
            for end, doc in (("max", "quota limit (-1: unlimited)"), ("used", "usage")):
                name = f"openstack_nova_limits_{kind}_{end}"
                families[name] = _gauge(name, f"A project's {kinds[kind]} {doc}.", ["tenant", "tenant_id"])
        for project_id, detail in sorted(snap.quotas.items()):
            labels = [names.get(project_id, project_id), project_id]
            for kind, quota in kinds.items():
                item = detail.get(quota, {})
                families[f"openstack_nova_limits_{kind}_max"].add_metric(labels, float(item.get("limit", 0)))
                families[f"openstack_nova_limits_{kind}_used"].add_metric(labels, float(item.get("in_use", 0)))
        yield from families.values()
        if snap.up.get("placement"):
            quota_sum = _gauge("nubis_quota_sum", "Sum of the projects' quotas of a resource (+Inf when some "
                               "project is unlimited).", ["quota", "resourcetype"])
            admitted = _gauge("nubis_capacity", "What placement admits of a resource: (total - reserved) x "
                              "allocation_ratio over every provider.", ["quota", "resourcetype"])
            for line in capacity.report(snap, self.warn_ratio):
                quota_sum.add_metric([line.quota, line.resource_class], line.quota_total)
                admitted.add_metric([line.quota, line.resource_class], line.capacity)
            yield from (quota_sum, admitted)

    def _network(self, snap: Snapshot) -> Iterator[GaugeMetricFamily]:
        if not snap.up.get("neutron"):
            return
        for name, items in (("networks", snap.networks), ("subnets", snap.subnets), ("ports", snap.ports),
                            ("floating_ips", snap.floating_ips), ("routers", snap.routers)):
            family = _gauge(f"openstack_neutron_{name}", f"Number of {name.replace('_', ' ')}.")
            family.add_metric([], len(items))
            yield family
        associated = _gauge("openstack_neutron_floating_ips_associated", "Floating IPs bound to a port.")
        associated.add_metric([], sum(1 for f in snap.floating_ips if f.get("port_id")))
        yield associated
        agents = _gauge("openstack_neutron_agent_state", "1 when the network agent is alive, else 0.",
                        ["id", "hostname", "service", "adminState"])
        for agent in snap.agents:
            agents.add_metric([agent["id"], agent.get("host", ""), agent.get("binary", ""),
                               "up" if agent.get("admin_state_up", True) else "down"],
                              1 if agent.get("alive") else 0)
        yield agents

    def _images(self, snap: Snapshot) -> Iterator[GaugeMetricFamily]:
        if not snap.up.get("glance"):
            return
        count = _gauge("openstack_glance_images", "Number of images.")
        count.add_metric([], len(snap.images))
        yield count
        size = _gauge("openstack_glance_image_bytes", "Size of each image's data, bytes.", ["id", "name", "tenant_id"])
        for image in snap.images:
            size.add_metric([image["id"], image.get("name") or "", image.get("owner") or ""],
                            float(image.get("size") or 0))
        yield size

    def _messaging(self) -> Iterator[GaugeMetricFamily]:
        assert self.transport_url is not None
        hosts = broker_up(self.transport_url)
        if not hosts:
            return
        family = _gauge("nubis_messaging_up", "1 when the message broker accepts a connection from the exporter.",
                        ["broker"])
        for address, up in hosts.items():
            family.add_metric([address], up)
        yield family


class MetricsApp:
    """WSGI: ``GET /metrics`` for the allowed addresses, 403 for others; ``GET /healthcheck`` (the process
    serves; no cloud read) for anyone; 404 elsewhere."""

    def __init__(self, registry: prom.CollectorRegistry, allowed: Sequence[str]) -> None:
        self.registry = registry
        self.allowed = api_metrics.parse_networks(allowed)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthcheck" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            return _plain(start_response, "200 OK", b"OK\n")
        if environ.get("PATH_INFO") != api_metrics.PATH or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _plain(start_response, "404 Not Found", b"nubis-exporter serves GET /metrics only\n")
        address = api_metrics._address(environ)
        if address is None or not any(address in n for n in self.allowed if n.version == address.version):
            return _plain(start_response, "403 Forbidden",
                          b"Metrics are served only to the addresses in [exporter] allowed_cidrs.\n")
        try:
            body = prom.generate_latest(self.registry)
        except Exception:  # noqa: BLE001 - a failed read is a 503 to Prometheus, which then marks the target down
            LOG.exception("collecting cloud metrics failed")
            return _plain(start_response, "503 Service Unavailable", b"collecting the cloud's metrics failed\n")
        start_response("200 OK", [("Content-Type", prom.CONTENT_TYPE_LATEST), ("Content-Length", str(len(body)))])
        return [body]


def _plain(start_response: Callable[..., Any], status: str, body: bytes) -> list[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def build_app(conf: cfg.ConfigOpts) -> MetricsApp:
    """The exporter's WSGI app on ``conf`` (``[exporter]``, ``[capacity]`` and ``[service_credentials]``)."""
    opts = conf.exporter
    reader = CloudReader(conf, project_metrics=opts.project_metrics, timeout=opts.api_timeout)
    registry = prom.CollectorRegistry()
    transport = conf.transport_url if "transport_url" in conf else None
    registry.register(CloudCollector(reader.read, opts.cache_seconds, transport,
                                     warn_ratio=conf.capacity.quota_capacity_ratio))
    return MetricsApp(registry, opts.allowed_cidrs)


def main(argv: Sequence[str] | None = None) -> int:
    """``nubis-exporter --config-file nubis.conf``: serve until SIGTERM (as the all-in-one runs it,
    ``nubis.monitoring.service``)."""
    from nubis.cmd import service

    return service.run("exporter", argv)


if __name__ == "__main__":
    sys.exit(main())
