"""One read of the cloud's state through its APIs, for the exporter and the capacity report.

Every call uses the ``[service_credentials]`` identity and finds the APIs in the catalog (or
``endpoint_overrides``). A service that does not answer is recorded as down with the reason, and the rest of the
read goes on: an exporter must still report the half of the cloud that works.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time
from typing import Any

from keystoneauth1 import adapter as ks_adapter
from oslo_config import cfg

from nubis.common import clients

LOG = logging.getLogger(__name__)

# The compute API's last microversion that still shows hypervisors' vCPU, RAM and disk totals and use.
COMPUTE_MICROVERSION = "2.87"
# Each listing is read whole, page by page; a cloud bigger than this many pages of one kind is cut short (logged).
MAX_PAGES = 200
# The APIs each read touches, by the name the metrics use (``openstack_<name>_up``).
APIS = {"nova": "compute", "placement": "placement", "identity": "identity", "neutron": "network",
        "glance": "image"}


@dataclasses.dataclass
class Snapshot:
    """What one read found. Lists hold the APIs' own JSON objects; a section is empty when its API failed."""

    taken_at: datetime.datetime
    up: dict[str, bool] = dataclasses.field(default_factory=dict)  # "nova" -> answered
    errors: dict[str, str] = dataclasses.field(default_factory=dict)
    hypervisors: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    services: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # os-services (compute)
    servers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    projects: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    quotas: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)  # project id -> quota detail
    default_quota: dict[str, Any] = dataclasses.field(default_factory=dict)
    providers: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # + "inventories", "usages"
    networks: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    subnets: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    ports: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    floating_ips: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    routers: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    agents: list[dict[str, Any]] = dataclasses.field(default_factory=list)  # network agents
    images: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    duration: float = 0.0  # seconds the read took


class CloudReader:
    """Reads a ``Snapshot``; ``project_metrics`` False skips the per-project quota calls."""

    def __init__(self, conf: cfg.ConfigOpts, project_metrics: bool = True, timeout: float = 30) -> None:
        self.conf = conf
        self.project_metrics = project_metrics
        self.timeout = timeout
        self._session = None if conf[clients.GROUP].auth_type is None else clients.service_session(conf)
        self._adapters: dict[str, ks_adapter.Adapter | None] = {}

    def _api(self, name: str) -> ks_adapter.Adapter | None:
        if name not in self._adapters:
            version = COMPUTE_MICROVERSION if name == "nova" else None
            try:
                self._adapters[name] = clients.service_adapter(self.conf, APIS[name], self._session, version)
            except cfg.RequiredOptError:
                self._adapters[name] = None  # nothing says where it is: not part of this cloud
        return self._adapters[name]

    def _get(self, name: str, path: str, **headers: str) -> Any:
        api = self._api(name)
        assert api is not None
        resp = api.get(path, timeout=self.timeout, raise_exc=True, headers=headers or None)
        return resp.json()

    def _pages(self, name: str, path: str, key: str, link_key: str | None) -> list[dict[str, Any]]:
        """Every item of a listing, following its ``next`` links (compute's ``<key>_links``, glance's
        ``next``)."""
        items: list[dict[str, Any]] = []
        url: str | None = path
        for _ in range(MAX_PAGES):
            if url is None:
                return items
            body = self._get(name, url)
            items += body.get(key, [])
            url = None
            if link_key == "next":
                url = body.get("next")
            elif link_key:
                url = next((ln["href"] for ln in body.get(link_key, []) if ln.get("rel") == "next"), None)
        LOG.warning("%s %s has more than %d pages: the exporter read only those", name, path, MAX_PAGES)
        return items

    def read(self) -> Snapshot:
        started = time.monotonic()
        snap = Snapshot(taken_at=datetime.datetime.now(datetime.UTC))
        for name, section in (("nova", self._compute), ("placement", self._placement),
                              ("identity", self._identity), ("neutron", self._network), ("glance", self._image)):
            if self._api(name) is None:
                continue
            try:
                section(snap)
                snap.up[name] = True
            except Exception as exc:  # noqa: BLE001 - one API down must not hide the others
                LOG.warning("reading the %s API failed: %s", name, exc)
                snap.up[name] = False
                snap.errors[name] = str(exc)
        if self.project_metrics and snap.up.get("nova") and snap.up.get("identity"):
            try:
                self._quotas(snap)
            except Exception as exc:  # noqa: BLE001
                LOG.warning("reading project quotas failed: %s", exc)
                snap.errors["quotas"] = str(exc)
        snap.duration = time.monotonic() - started
        return snap

    def _compute(self, snap: Snapshot) -> None:
        snap.hypervisors = self._get("nova", "/os-hypervisors/detail")["hypervisors"]
        snap.services = self._get("nova", "/os-services")["services"]
        snap.servers = self._pages("nova", "/servers/detail?all_tenants=1", "servers", "servers_links")

    def _placement(self, snap: Snapshot) -> None:
        providers = self._get("placement", "/resource_providers")["resource_providers"]
        for rp in providers:
            rp["inventories"] = self._get("placement", f"/resource_providers/{rp['uuid']}/inventories")["inventories"]
            rp["usages"] = self._get("placement", f"/resource_providers/{rp['uuid']}/usages")["usages"]
        snap.providers = providers

    def _identity(self, snap: Snapshot) -> None:
        snap.projects = self._get("identity", "/projects")["projects"]

    def _network(self, snap: Snapshot) -> None:
        for attr, path, key in (("networks", "/v2.0/networks", "networks"), ("subnets", "/v2.0/subnets", "subnets"),
                                ("ports", "/v2.0/ports", "ports"),
                                ("floating_ips", "/v2.0/floatingips", "floatingips"),
                                ("routers", "/v2.0/routers", "routers"), ("agents", "/v2.0/agents", "agents")):
            setattr(snap, attr, self._get("neutron", path)[key])

    def _image(self, snap: Snapshot) -> None:
        snap.images = self._pages("glance", "/v2/images?limit=1000", "images", "next")

    def _quotas(self, snap: Snapshot) -> None:
        any_project = snap.projects[0]["id"] if snap.projects else "default"
        snap.default_quota = self._get("nova", f"/os-quota-sets/{any_project}/defaults")["quota_set"]
        for project in snap.projects:
            if project.get("is_domain"):
                continue
            snap.quotas[project["id"]] = self._get("nova", f"/os-quota-sets/{project['id']}/detail")["quota_set"]
