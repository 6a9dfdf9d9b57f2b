"""``/v3/{project_id}/backups``: create, list, show, update (3.9), delete, restore, the admin actions
(``os-reset_status``, ``os-force_delete``), export and import of backup records."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.api.microversion import Version
from nubis.common import exceptions
from nubis.volume.api.common import (
    authorize,
    authorize_owned,
    body_of,
    context,
    core,
    is_true,
    list_query,
    page_response,
    version_of,
)
from nubis.volume.api.schemas import backups as schemas
from nubis.volume.api.views import backups as views

FILTERS = ("name", "status", "volume_id")
SORT_KEYS = ("id", "name", "status", "size", "created_at", "updated_at", "availability_zone")
UPDATE_VERSION = Version(3, 9)
_ACTION_RULES = {"os-reset_status": "volume_extension:backup_admin_actions:reset_status",
                 "os-force_delete": "volume_extension:backup_admin_actions:force_delete"}


def _owned(req: router.Request, rule: str, backup_id: str) -> None:
    authorize_owned(req, rule, core(req).backups.owner(backup_id))


def _flag(value: Any) -> bool:
    return value is True or (isinstance(value, str) and is_true(value))


def _detail(req: router.Request, b: dict[str, Any]) -> dict[str, Any]:
    return views.detail(req, b, version_of(req), context(req).is_admin)


def create(req: router.Request) -> webob.Response:
    body = body_of(req)
    version = version_of(req)
    validation.validate(body, schemas.CREATE_V343 if version >= views.METADATA else schemas.CREATE)
    spec = dict(body["backup"])
    if spec.get("name") is not None:
        spec["name"] = spec["name"].strip()
    authorize_owned(req, "backup:create", core(req).volumes.owner(spec["volume_id"]))
    spec["incremental"] = _flag(spec.get("incremental", False))
    spec["force"] = _flag(spec.get("force", False))
    made = core(req).backups.create(context(req), spec)
    return router.json_response({"backup": views.summary(req, made)}, status=202)


def _list(req: router.Request, detailed: bool) -> webob.Response:
    authorize(req, "backup:get_all")
    query = list_query(req, FILTERS)
    unknown = [key for key, _ in query.sort if key not in SORT_KEYS]
    if unknown:
        raise exceptions.BadRequest(f"Invalid sort key {unknown[0]}: backups sort by {', '.join(SORT_KEYS)}.")
    found, more = core(req).backups.list(context(req), query)
    items = [_detail(req, b) if detailed else views.summary(req, b) for b in found]
    return page_response(req, "backups", items, more)


def index(req: router.Request) -> webob.Response:
    return _list(req, detailed=False)


def detail(req: router.Request) -> webob.Response:
    return _list(req, detailed=True)


def show(req: router.Request, backup_id: str) -> webob.Response:
    _owned(req, "backup:get", backup_id)
    return router.json_response({"backup": _detail(req, core(req).backups.get(context(req), backup_id))})


def update(req: router.Request, backup_id: str) -> webob.Response:
    version = version_of(req)
    if version < UPDATE_VERSION:
        raise exceptions.NotFound("Updating a backup needs microversion 3.9 or later.")
    _owned(req, "backup:update", backup_id)
    body = body_of(req)
    validation.validate(body, schemas.UPDATE_V343 if version >= views.METADATA else schemas.UPDATE)
    changes = dict(body["backup"] or {})
    for field in ("name", "description"):
        if isinstance(changes.get(field), str):
            changes[field] = changes[field].strip()
    updated = core(req).backups.update(context(req), backup_id, changes)
    return router.json_response({"backup": views.summary(req, updated)})


def delete(req: router.Request, backup_id: str) -> webob.Response:
    _owned(req, "backup:delete", backup_id)
    core(req).backups.delete(context(req), backup_id)
    return router.empty_response(202)


def restore(req: router.Request, backup_id: str) -> webob.Response:
    _owned(req, "backup:restore", backup_id)
    body = body_of(req)
    validation.validate(body, schemas.RESTORE)
    args = body["restore"] or {}
    volume_id = args.get("volume_id")
    if volume_id is not None:
        authorize_owned(req, "backup:restore", core(req).volumes.owner(volume_id))
    restored = core(req).backups.restore(context(req), backup_id, volume_id, args.get("name"))
    return router.json_response({"restore": restored}, status=202)


def action(req: router.Request, backup_id: str) -> webob.Response:
    """``POST .../backups/{id}/action``: ``os-reset_status`` or ``os-force_delete`` (admins)."""
    body = body_of(req)
    if len(body) != 1 or next(iter(body)) not in schemas.ACTIONS:
        raise exceptions.BadRequest(f"Invalid request body: it must name one action of "
                                    f"{', '.join(sorted(schemas.ACTIONS))}.")
    name, args = next(iter(body.items()))
    _owned(req, _ACTION_RULES[name], backup_id)
    validation.validate(args, schemas.ACTIONS[name])
    if name == "os-reset_status":
        core(req).backups.reset_status(context(req), backup_id, args["status"].lower())
    else:
        core(req).backups.delete(context(req), backup_id, force=True)
    return router.empty_response(202)


def export_record(req: router.Request, backup_id: str) -> webob.Response:
    _owned(req, "backup:export-import", backup_id)
    return router.json_response({"backup-record": core(req).backups.export_record(context(req), backup_id)})


def import_record(req: router.Request) -> webob.Response:
    authorize(req, "backup:backup-import")
    body = body_of(req)
    validation.validate(body, schemas.IMPORT)
    record = body["backup-record"]
    made = core(req).backups.import_record(context(req), record["backup_service"], record["backup_url"])
    return router.json_response({"backup": views.summary(req, made)}, status=201)


def routes(prefix: str) -> router.RouteTable:
    item = f"{prefix}/backups/{{backup_id}}"
    return {
        f"{prefix}/backups": {"GET": index, "POST": create},
        f"{prefix}/backups/detail": {"GET": detail},
        f"{prefix}/backups/import_record": {"POST": import_record},
        item: {"GET": show, "PUT": update, "DELETE": delete},
        f"{item}/restore": {"POST": restore},
        f"{item}/action": {"POST": action},
        f"{item}/export_record": {"GET": export_record},
    }
