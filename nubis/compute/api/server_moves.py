"""Moving servers between hosts (the migrate, os-migrateLive and evacuate actions) and listing migrations."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.compute.api import passwords
from nubis.compute.api.common import authorize, context, core, params_of, version_of
from nubis.compute.api.views import links
from nubis.compute.api.views import migrations as views


def _target(name: str, arg: Any) -> str | None:
    if arg is not None and not isinstance(arg, dict):
        raise exceptions.BadRequest(f"Invalid input for {name}: an object (or null for migrate) is required.")
    target = (arg or {}).get("host")
    if target is not None and (not isinstance(target, str) or not target or len(target) > 255):
        raise exceptions.BadRequest(f"Invalid host {target!r}: a host name is required.")
    return target


def migrate(req: router.Request, inst: Any, arg: Any) -> None:
    """Cold migration; naming the destination needs 2.56."""
    if arg and version_of(req) < Version(2, 56):
        raise exceptions.BadRequest("Choosing the host of a migration needs microversion 2.56 or later.")
    core(req).moves.move(context(req), inst.uuid, "migration", _target("migrate", arg))


def migrate_live(req: router.Request, inst: Any, arg: Any) -> None:
    if not isinstance(arg, dict) or "host" not in arg:
        raise exceptions.BadRequest("Invalid input for os-migrateLive: 'host' is required (null lets the "
                                    "scheduler choose).")
    core(req).moves.move(context(req), inst.uuid, "live-migration", _target("os-migrateLive", arg))


def evacuate(req: router.Request, inst: Any, arg: Any) -> webob.Response:
    """Rebuild elsewhere; before 2.14 the response carries the admin password (Nova's ``adminPass``)."""
    admin_pass = passwords.admin_pass(req, arg if isinstance(arg, dict) else None)
    core(req).moves.move(context(req), inst.uuid, "evacuation", _target("evacuate", arg))
    if version_of(req) < Version(2, 14) and admin_pass is not None:
        return router.json_response({"adminPass": admin_pass})
    return router.empty_response(200)


def list_migrations(req: router.Request) -> webob.Response:
    authorize(req, "os-migrations:index")
    found = core(req).moves.list(params_of(req))
    base = links.base_url(req)
    return router.json_response({"migrations": [views.migration(base, m, version_of(req)) for m in found]})


def list_server_migrations(req: router.Request, server_id: str) -> webob.Response:
    inst, _ = core(req).servers.get(context(req), server_id)
    authorize(req, "os-migrations:index", {"project_id": inst.project_id})
    base = links.base_url(req)
    return router.json_response({"migrations": [views.migration(base, m, version_of(req), of_server=True)
                                                for m in core(req).moves.list({}, server_id)]})


def routes(prefix: str) -> router.RouteTable:
    return {
        f"{prefix}/servers/{{server_id}}/migrations": {"GET": list_server_migrations},
        f"{prefix}/os-migrations": {"GET": list_migrations},
    }
