"""``/os-hosts`` (deprecated; in the API up to microversion 2.42): hosts, their resources, enabling them.

Power actions and maintenance mode need a driver that manages the host itself; like Nova's libvirt driver,
this one does not, so they answer 501.
"""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api.common import authorize, body_of, context, core, until

_LAST = Version(2, 42)

# Nova's body of PUT /os-hosts/{host_name}: status and/or maintenance_mode, at least one.
_UPDATE = {"type": "object", "properties": {
    "status": {"type": "string", "enum": ["enable", "disable", "Enable", "Disable", "ENABLE", "DISABLE"]},
    "maintenance_mode": {"type": "string", "enum": ["enable", "disable", "Enable", "Disable", "ENABLE",
                                                    "DISABLE"]}},
    "anyOf": [{"required": ["status"]}, {"required": ["maintenance_mode"]}], "additionalProperties": False}


@until(_LAST)
def list_hosts(req: router.Request) -> webob.Response:
    authorize(req, "os-hosts:list")
    return router.json_response({"hosts": core(req).hosts.hosts(req.GET.get("zone"))})


@until(_LAST)
def show_host(req: router.Request, host_name: str) -> webob.Response:
    authorize(req, "os-hosts:show")
    return router.json_response({"host": core(req).hosts.resources(host_name)})


@until(_LAST)
def update_host(req: router.Request, host_name: str) -> webob.Response:
    authorize(req, "os-hosts:update")
    body = body_of(req)
    validation.validate(body, _UPDATE)
    c = core(req)
    service = next((s for s in c.services.list(host_name) if s["host"] == host_name), None)
    if service is None:
        raise exceptions.NotFound(f"Compute host {host_name[:255]} could not be found.")
    if "maintenance_mode" in body:
        raise exceptions.NotImplementedYet("Maintenance mode is not supported by this host's driver.")
    status = "enabled" if body["status"].lower() == "enable" else "disabled"
    c.services.update(context(req), service["id"], {"status": status})
    return router.json_response({"host": host_name, "status": status})


def _power(action: str, rule: str) -> router.Handler:
    @until(_LAST)
    def run(req: router.Request, host_name: str) -> webob.Response:
        authorize(req, f"os-hosts:{rule}")
        core(req).hosts.resources(host_name)  # 404 for an unknown host first, as Nova
        raise exceptions.NotImplementedYet(f"The host {action} action is not supported by this host's driver.")

    return run


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/os-hosts": {"GET": list_hosts},
        f"{prefix}/os-hosts/{{host_name}}": {"GET": show_host, "PUT": update_host},
        f"{prefix}/os-hosts/{{host_name}}/reboot": {"GET": _power("reboot", "reboot")},
        f"{prefix}/os-hosts/{{host_name}}/shutdown": {"GET": _power("shutdown", "shutdown")},
        f"{prefix}/os-hosts/{{host_name}}/startup": {"GET": _power("startup", "start")},
    }
