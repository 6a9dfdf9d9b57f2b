"""The scheduler's logic: candidates from placement, filters, weighers, atomic claims, explanations."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg

from nubis.common.clients.placement import PlacementClient
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.scheduler import claims, filters, numa, weighers
from nubis.scheduler.db.models import ComputeHost
from nubis.scheduler.exceptions import NoValidHost
from nubis.scheduler.explain import Explanation
from nubis.scheduler.host_state import HostState
from nubis.scheduler.request_spec import RequestSpec
from nubis.scheduler.resources import query_for, resources_for

LOG = logging.getLogger(__name__)


@dataclasses.dataclass
class Selection:
    instance_uuid: str
    host: str
    node: str
    availability_zone: str
    provider_uuid: str
    allocation_request: Mapping[str, Any]
    numa_fit: Mapping[str, Any] | None
    alternates: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class SchedulerManager:
    def __init__(self, conf: cfg.ConfigOpts, db: Database, placement: PlacementClient) -> None:
        self.conf = conf
        self.db = db
        self.placement = placement

    # -- hosts report in --------------------------------------------------------------------------

    def update_host(self, report: Mapping[str, Any]) -> None:
        """Record (or refresh) a compute host: its provider, zone, capabilities and NUMA cells.

        Usage and generation are kept: claims made by this scheduler stay valid
        across the periodic reports of the host.
        """
        with self.db.writer() as s:
            row = s.get(ComputeHost, report["host"])
            if row is None:
                row = ComputeHost(host=report["host"], generation=0, numa_usage={})
                s.add(row)
            row.node = report.get("node") or report["host"]
            row.provider_uuid = report["provider_uuid"]
            row.availability_zone = report.get("availability_zone") or "nova"
            row.cell = report.get("cell") or "cell1"
            row.enabled = bool(report.get("enabled", True))
            row.capabilities = dict(report.get("capabilities") or {})
            row.numa_topology = list(report.get("numa_topology") or [])
            row.updated_at = types.utcnow()

    def update_host_settings(self, host: str, settings: Mapping[str, Any]) -> bool:
        """What the compute API decides about a host: its aggregates' zone and metadata, and enabled or not.

        Returns False for a host that has not reported yet; its first report
        comes before the API can name it, so that only happens for stale names.
        """
        with self.db.writer() as s:
            row = s.get(ComputeHost, host)
            if row is None:
                return False
            row.aggregate_zone = settings.get("availability_zone")
            row.aggregate_metadata = dict(settings.get("aggregate_metadata") or {})
            row.disabled_by_admin = not settings.get("enabled", True)
            return True

    # -- evaluation ---------------------------------------------------------------------------------

    def _known_hosts(self) -> dict[str, ComputeHost]:
        with self.db.reader() as s:
            rows = list(s.scalars(sa.select(ComputeHost)))
            for row in rows:
                s.expunge(row)
        return {row.provider_uuid: row for row in rows}

    def evaluate(self, spec: RequestSpec) -> tuple[list[HostState], Explanation]:
        """Hosts that can take ``spec``, best first, and the account of the others."""
        report = Explanation()
        known = self._known_hosts()
        report.considered = len(known)
        candidates = self.placement.allocation_candidates(query_for(spec, self.conf.scheduler.max_placement_results))
        summaries = candidates["provider_summaries"]
        requests: dict[str, Mapping[str, Any]] = {}
        for request in candidates["allocation_requests"]:
            providers = list(request["allocations"])
            if len(providers) == 1:
                requests.setdefault(providers[0], request)
        missing = [rp for rp in known if rp not in requests]
        if missing:
            self._explain_placement(spec, {rp: known[rp].host for rp in missing}, report)
        hosts = [HostState.build(known[rp], summaries.get(rp, {}), req) for rp, req in requests.items() if rp in known]
        ctx = filters.FilterContext(self.conf.scheduler.service_down_time)
        if spec.ignore_hosts:
            kept = []
            for host in hosts:
                if host.host in spec.ignore_hosts:
                    report.remove("ignored host", "the instance is moving away from it", host.host)
                else:
                    kept.append(host)
            hosts = kept
        if spec.force_host or spec.force_node:
            kept = []
            for host in hosts:
                if (spec.force_host and host.host != spec.force_host) or (spec.force_node and host.node != spec.force_node):
                    report.remove("requested host", "not the host an admin asked for", host.host)
                else:
                    kept.append(host)
            hosts = kept
        for name in self.conf.scheduler.enabled_filters:
            check = filters.FILTERS.get(name)
            if check is None:
                raise ValueError(f"unknown scheduler filter {name!r} in [scheduler] enabled_filters; "
                                 f"known: {', '.join(filters.FILTERS)}")
            kept = []
            for host in hosts:
                reason = check(host, spec, ctx)
                if reason is None:
                    kept.append(host)
                else:
                    report.remove(name, reason, host.host)
            hosts = kept
        report.passing = [h.host for h in hosts]
        return weighers.weigh(hosts, self.conf, spec.server_group), report

    def _explain_placement(self, spec: RequestSpec, missing: dict[str, str], report: Explanation) -> None:
        """Which resource (or trait) placement lacked on each host it did not offer."""
        wanted = resources_for(spec)
        unexplained = dict(missing)
        for rc, amount in sorted(wanted.items()):
            single = dataclasses.replace(spec, flavor=dataclasses.replace(
                spec.flavor, extra_specs={**_no_resource_specs(spec.flavor.extra_specs), **_only(rc, wanted)}))
            offered = self.placement.allocation_candidates(query_for(single, 100000))["provider_summaries"]
            for rp in list(unexplained):
                if rp not in offered:
                    report.remove("placement", f"not enough {rc} (need {amount})", unexplained.pop(rp))
        for host in unexplained.values():
            report.remove("placement", "lacks a required trait or has a forbidden one", host)

    def explain(self, spec: RequestSpec) -> dict[str, Any]:
        hosts, report = self.evaluate(spec)
        body = report.to_dict()
        body["ranked_hosts"] = [{"host": h.host, "weight": round(h.weight, 4)} for h in hosts]
        return body

    # -- choosing and claiming -------------------------------------------------------------------------

    def select_destinations(self, spec: RequestSpec, return_alternates: bool = True) -> list[dict[str, Any]]:
        try:
            numa_request = numa.NumaRequest.from_flavor(spec.flavor.vcpus, spec.flavor.memory_mb,
                                                        spec.flavor.extra_specs)
        except numa.InvalidNumaRequest as exc:
            raise NoValidHost(f"No valid host was found. Invalid NUMA request: {exc}") from None
        hosts, report = self.evaluate(spec)
        instances = list(spec.instance_uuids) or [types.new_uuid()]
        chosen: list[Selection] = []
        taken_hosts: list[str] = []
        for instance in instances:
            selection = self._claim_one(spec, instance, hosts, numa_request, taken_hosts, report)
            if selection is None:
                for done in chosen:
                    self.release(done.instance_uuid)
                raise NoValidHost(f"No valid host was found. {report.summary()}")
            chosen.append(selection)
            taken_hosts.append(selection.host)
        if not return_alternates:
            for s in chosen:
                s.alternates = []
        return [s.to_dict() for s in chosen]

    def _claim_one(self, spec: RequestSpec, instance: str, hosts: list[HostState],
                   numa_request: numa.NumaRequest | None, taken_hosts: list[str],
                   report: Explanation) -> Selection | None:
        group = spec.server_group
        for index, host in enumerate(hosts):
            if group and group.policy == "anti-affinity" and \
                    (group.hosts + tuple(taken_hosts)).count(host.host) >= group.max_per_host:
                continue
            if group and group.policy == "affinity" and taken_hosts and host.host != taken_hosts[0]:
                continue
            fit = None
            if numa_request is not None:
                try:
                    fit = claims.claim(self.db, host.host, instance, numa_request)
                except claims.ClaimLost as lost:
                    report.remove("claim", f"lost the race for NUMA resources: {lost}", host.host)
                    continue
            if not self.placement.claim(instance, dict(host.allocation_request), spec.project_id, spec.user_id):
                if fit is not None:
                    claims.release(self.db, instance)
                report.remove("claim", "placement resources taken by a concurrent boot", host.host)
                continue
            alternates = [{"host": h.host, "node": h.node, "provider_uuid": h.provider_uuid,
                           "allocation_request": dict(h.allocation_request)}
                          for h in hosts[index + 1: index + 1 + self.conf.scheduler.max_alternates]]
            LOG.info("instance %s goes to %s", instance, host.host)
            return Selection(instance, host.host, host.node, host.availability_zone, host.provider_uuid, dict(host.allocation_request),
                             fit.to_dict() if fit else None, alternates)
        return None

    def release(self, instance_uuid: str) -> None:
        """Undo a selection: the NUMA claim and the placement allocation."""
        claims.release(self.db, instance_uuid)
        self.placement.release(instance_uuid)


def _no_resource_specs(specs: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in specs.items() if not k.startswith(("trait:", "resources:"))}


def _only(rc: str, wanted: Mapping[str, int]) -> dict[str, str]:
    """Extra specs that make ``resources_for`` ask for ``rc`` alone."""
    specs = {f"resources:{other}": "0" for other in wanted if other != rc}
    specs[f"resources:{rc}"] = str(wanted[rc])
    return specs
