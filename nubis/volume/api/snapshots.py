"""``/v3/{project_id}/snapshots``: create, list, show, update, delete, metadata."""

from __future__ import annotations

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.volume.api import metadata
from nubis.volume.api.common import (
    authorize,
    authorize_owned,
    body_of,
    context,
    core,
    list_query,
    page_response,
    version_of,
)
from nubis.volume.api.schemas import snapshots as schemas
from nubis.volume.api.views import snapshots as views

FILTERS = ("name", "status", "volume_id")


def _owned(req: router.Request, rule: str, snapshot_id: str) -> None:
    authorize_owned(req, rule, core(req).snapshots.owner(snapshot_id))


def create(req: router.Request) -> webob.Response:
    body = body_of(req)
    validation.validate(body, schemas.CREATE)
    spec = body["snapshot"]
    if spec["volume_id"] is None:
        raise exceptions.NotFound("Volume None could not be found.")  # Cinder's answer (and Tempest's test)
    authorize_owned(req, "volume:create_snapshot", core(req).volumes.owner(spec["volume_id"]))
    force = spec.get("force") in (True, "true", "True", "1")
    snap = core(req).snapshots.create(context(req), spec["volume_id"], spec.get("name", spec.get("display_name")),
                                      spec.get("description", spec.get("display_description")), force,
                                      spec.get("metadata"))
    return router.json_response({"snapshot": views.summary(snap, version_of(req))}, status=202)


def _list(req: router.Request, detailed: bool) -> webob.Response:
    authorize(req, "volume:get_all_snapshots")
    found, more = core(req).snapshots.list(context(req), list_query(req, FILTERS))
    render = views.detail if detailed else views.summary
    items = [render(sn, version_of(req)) for sn in found]
    return page_response(req, "snapshots", items, more)


def index(req: router.Request) -> webob.Response:
    return _list(req, detailed=False)


def detail(req: router.Request) -> webob.Response:
    return _list(req, detailed=True)


def show(req: router.Request, snapshot_id: str) -> webob.Response:
    _owned(req, "volume:get_snapshot", snapshot_id)
    return router.json_response({"snapshot": views.detail(core(req).snapshots.get(context(req), snapshot_id),
                                                          version_of(req))})


def update(req: router.Request, snapshot_id: str) -> webob.Response:
    _owned(req, "volume:update_snapshot", snapshot_id)
    body = body_of(req)
    validation.validate(body, schemas.UPDATE)
    changes = dict(body["snapshot"])
    for old, new in (("display_name", "name"), ("display_description", "description")):
        if old in changes:
            changes.setdefault(new, changes.pop(old))
    snap = core(req).snapshots.update(context(req), snapshot_id, changes)
    return router.json_response({"snapshot": views.summary(snap, version_of(req))})


def delete(req: router.Request, snapshot_id: str) -> webob.Response:
    _owned(req, "volume:delete_snapshot", snapshot_id)
    core(req).snapshots.delete(context(req), snapshot_id)
    return router.empty_response(202)


_ACTION_RULES = {
    "os-reset_status": "volume_extension:snapshot_admin_actions:reset_status",
    "os-force_delete": "volume_extension:snapshot_admin_actions:force_delete",
    "os-update_snapshot_status": "snapshot_extension:snapshot_actions:update_snapshot_status",
}


def action(req: router.Request, snapshot_id: str) -> webob.Response:
    """``POST .../snapshots/{id}/action`` with one of ``schemas.ACTIONS``."""
    body = body_of(req)
    if len(body) != 1 or next(iter(body)) not in schemas.ACTIONS:
        raise exceptions.BadRequest(f"Invalid request body: it must name one action of "
                                    f"{', '.join(sorted(schemas.ACTIONS))}.")
    name, args = next(iter(body.items()))
    _owned(req, _ACTION_RULES[name], snapshot_id)
    validation.validate(args, schemas.ACTIONS[name])
    snapshots, ctx = core(req).snapshots, context(req)
    if name == "os-reset_status":
        snapshots.reset_status(ctx, snapshot_id, args["status"])
    elif name == "os-force_delete":
        snapshots.delete(ctx, snapshot_id, force=True)
    else:
        snapshots.update_status(ctx, snapshot_id, args["status"], args.get("progress"))
    return router.empty_response(202)


METADATA = metadata.MetadataOf("snapshot_id", lambda c: c.snapshots, "volume:get_snapshot_metadata",
                               "volume:update_snapshot_metadata", "volume:delete_snapshot_metadata")


def routes(prefix: str) -> router.RouteTable:
    item = f"{prefix}/snapshots/{{snapshot_id}}"
    return {
        f"{prefix}/snapshots": {"GET": index, "POST": create},
        f"{prefix}/snapshots/detail": {"GET": detail},
        item: {"GET": show, "PUT": update, "DELETE": delete},
        f"{item}/action": {"POST": action},
        **metadata.routes(item, METADATA),
    }
