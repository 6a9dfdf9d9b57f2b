"""``/os-hypervisors``: the hosts' hypervisors and their capacity (admin)."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api.common import authorize, core, until, version_of
from nubis.compute.api.views import hypervisors as views


def list_hypervisors(req: router.Request, detailed: bool = False) -> webob.Response:
    authorize(req, "os-hypervisors:list-detail" if detailed else "os-hypervisors:list")
    found = core(req).services.hypervisors(detailed)
    return router.json_response({"hypervisors": [views.hypervisor(h, version_of(req)) for h in found]})


def list_hypervisors_detail(req: router.Request) -> webob.Response:
    return list_hypervisors(req, detailed=True)


def _one(req: router.Request, hypervisor_id: str) -> dict[str, Any]:
    found = core(req).services.hypervisors(True, hypervisor_id)
    if not found:
        raise exceptions.NotFound(f"Hypervisor with ID {hypervisor_id} could not be found.")
    return found[0]


def show_hypervisor(req: router.Request, hypervisor_id: str) -> webob.Response:
    authorize(req, "os-hypervisors:show")
    return router.json_response({"hypervisor": views.hypervisor(_one(req, hypervisor_id), version_of(req))})


@until(Version(2, 87))  # since 2.88 the uptime is part of GET /os-hypervisors/{id}
def hypervisor_uptime(req: router.Request, hypervisor_id: str) -> webob.Response:
    authorize(req, "os-hypervisors:uptime")
    return router.json_response({"hypervisor": views.uptime(_one(req, hypervisor_id), version_of(req))})


@until(Version(2, 87))  # placement reports capacity since
def hypervisor_statistics(req: router.Request) -> webob.Response:
    authorize(req, "os-hypervisors:statistics")
    return router.json_response({"hypervisor_statistics": core(req).hosts.statistics()})


@until(Version(2, 52))  # since 2.53: GET /os-hypervisors?hypervisor_hostname_pattern=
def search_hypervisors(req: router.Request, pattern: str) -> webob.Response:
    authorize(req, "os-hypervisors:search")
    found = core(req).hosts.matching(pattern, with_servers=False)
    return router.json_response({"hypervisors": [views.hypervisor(h, version_of(req)) for h in found]})


@until(Version(2, 52))  # since 2.53: GET /os-hypervisors?with_servers=true
def hypervisor_servers(req: router.Request, pattern: str) -> webob.Response:
    authorize(req, "os-hypervisors:servers")
    found = core(req).hosts.matching(pattern, with_servers=True)
    return router.json_response({"hypervisors": [views.hypervisor(h, version_of(req)) for h in found]})


def routes(prefix: str) -> router.RouteTable:
    # The fixed paths come before /{hypervisor_id}, which would match them too.
    return {
        f"{prefix}/os-hypervisors": {"GET": list_hypervisors},
        f"{prefix}/os-hypervisors/detail": {"GET": list_hypervisors_detail},
        f"{prefix}/os-hypervisors/statistics": {"GET": hypervisor_statistics},
        f"{prefix}/os-hypervisors/{{pattern}}/search": {"GET": search_hypervisors},
        f"{prefix}/os-hypervisors/{{pattern}}/servers": {"GET": hypervisor_servers},
        f"{prefix}/os-hypervisors/{{hypervisor_id}}": {"GET": show_hypervisor},
        f"{prefix}/os-hypervisors/{{hypervisor_id}}/uptime": {"GET": hypervisor_uptime},
    }
