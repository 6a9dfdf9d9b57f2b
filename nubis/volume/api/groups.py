"""Generic volume groups: ``/group_types`` (3.11, with ``group_specs``), ``/groups`` (3.13; ``create-from-src``
3.14, ``reset_status`` 3.20) and ``/group_snapshots`` (3.14; ``reset_status`` 3.19)."""

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
    since,
    version_of,
)
from nubis.volume.api.schemas import groups as schemas
from nubis.volume.api.views import groups as views
from nubis.volume.core import groups as groups_core
from nubis.volume.core import listing

GROUP_TYPES = Version(3, 11)
GROUPS = Version(3, 13)
GROUP_SNAPSHOTS = Version(3, 14)
GROUP_SNAPSHOT_RESET = Version(3, 19)
GROUP_RESET = Version(3, 20)
GROUP_FILTERS = ("name", "status", "availability_zone")
GROUP_SNAPSHOT_FILTERS = ("name", "status", "group_id")


def _bool(value: Any) -> bool:
    return value is True or (isinstance(value, str) and is_true(value))


def _only_action(body: dict[str, Any], actions: dict[str, dict[str, Any]]) -> tuple[str, Any]:
    if len(body) != 1 or next(iter(body)) not in actions:
        raise exceptions.BadRequest(f"Invalid request body: it must name one action of {', '.join(actions)}.")
    name, args = next(iter(body.items()))
    return name, args


def _sorted_as(query: listing.ListQuery, keys: tuple[str, ...]) -> listing.ListQuery:
    """``query`` if each of its sort keys is one of ``keys`` (a column of what is listed), else a 400."""
    for key, _ in query.sort:
        if key not in keys:
            raise exceptions.BadRequest(f"Invalid sort key {key}: it must be one of {', '.join(keys)}.")
    return query


# -- group types ------------------------------------------------------------------------------------------

def _specs_shown(req: router.Request) -> bool:
    ctx = context(req)
    return core(req).policy.check(ctx, "group:access_group_types_specs",
                                  {"project_id": ctx.project_id, "user_id": ctx.user_id})


def _type_sort(req: router.Request) -> tuple[tuple[str, bool], ...]:
    """Cinder's ``sort=key[:dir],...`` (or ``sort_key``/``sort_dir``) over the group type columns."""
    params = req.GET
    if "sort" in params:
        pairs = [p.strip().partition(":")[::2] for p in params["sort"].split(",") if p.strip()]
    elif "sort_key" in params or "sort_dir" in params:
        pairs = [(params.get("sort_key", "created_at"), params.get("sort_dir", "desc"))]
    else:
        return (("created_at", True),)
    out = []
    for key, direction in pairs[:5]:
        if key not in groups_core.GROUP_TYPE_SORT_KEYS:
            raise exceptions.BadRequest(f"Invalid sort key {key[:50]!r}: it must be one of "
                                        f"{', '.join(groups_core.GROUP_TYPE_SORT_KEYS)}.")
        direction = direction or "desc"
        if direction not in ("asc", "desc"):
            raise exceptions.BadRequest(f"Invalid sort direction {direction[:50]!r}: it must be asc or desc.")
        out.append((key, direction == "desc"))
    return tuple(out)


@since(GROUP_TYPES)
def list_group_types(req: router.Request) -> webob.Response:
    authorize(req, "group:group_types:get_all")
    raw = req.GET.get("is_public")
    is_public = None if raw is None or raw.strip().lower() == "none" else is_true(raw)
    found = core(req).group_types.list(context(req).is_admin, is_public, _type_sort(req))
    specs = _specs_shown(req)
    return router.json_response({"group_types": [views.group_type(t, specs) for t in found]})


@since(GROUP_TYPES)
def create_group_type(req: router.Request) -> webob.Response:
    authorize(req, "group:group_types:create")
    body = body_of(req)
    validation.validate(body, schemas.CREATE_TYPE)
    spec = body["group_type"]
    made = core(req).group_types.create(spec["name"].strip(), spec.get("description"),
                                        _bool(spec.get("is_public", True)), spec.get("group_specs") or {})
    return router.json_response({"group_type": views.group_type(made, _specs_shown(req))}, status=202)


@since(GROUP_TYPES)
def show_group_type(req: router.Request, group_type_id: str) -> webob.Response:
    authorize(req, "group:group_types:get")
    found = core(req).group_types.get(group_type_id, context(req).is_admin)
    return router.json_response({"group_type": views.group_type(found, _specs_shown(req))})


@since(GROUP_TYPES)
def update_group_type(req: router.Request, group_type_id: str) -> webob.Response:
    authorize(req, "group:group_types:update")
    body = body_of(req)
    validation.validate(body, schemas.UPDATE_TYPE)
    changes = dict(body["group_type"])
    if changes.get("name") is not None:
        changes["name"] = changes["name"].strip()
    if changes.get("is_public") is not None:
        changes["is_public"] = _bool(changes["is_public"])
    if all(changes.get(k) is None for k in ("name", "description", "is_public")):
        raise exceptions.BadRequest("Specify group type name, description or a combination thereof.")
    updated = core(req).group_types.update(group_type_id, changes)
    return router.json_response({"group_type": views.group_type(updated, _specs_shown(req))})


@since(GROUP_TYPES)
def delete_group_type(req: router.Request, group_type_id: str) -> webob.Response:
    authorize(req, "group:group_types:delete")
    core(req).group_types.delete(group_type_id)
    return router.empty_response(202)


@since(GROUP_TYPES)
def list_specs(req: router.Request, group_type_id: str) -> webob.Response:
    authorize(req, "group:group_types_specs:get_all")
    return router.json_response({"group_specs": core(req).group_types.specs(group_type_id)})


@since(GROUP_TYPES)
def create_specs(req: router.Request, group_type_id: str) -> webob.Response:
    authorize(req, "group:group_types_specs:create")
    body = body_of(req)
    validation.validate(body, schemas.GROUP_SPECS)
    return router.json_response({"group_specs": core(req).group_types.set_specs(group_type_id,
                                                                                body["group_specs"])}, status=202)


@since(GROUP_TYPES)
def show_spec(req: router.Request, group_type_id: str, key: str) -> webob.Response:
    authorize(req, "group:group_types_specs:get")
    specs = core(req).group_types.specs(group_type_id)
    if key not in specs:
        raise exceptions.NotFound(f"Group Type {group_type_id} has no specs with key {key}.")
    return router.json_response({key: specs[key]})


@since(GROUP_TYPES)
def update_spec(req: router.Request, group_type_id: str, key: str) -> webob.Response:
    authorize(req, "group:group_types_specs:update")
    body = body_of(req)
    validation.validate(body, schemas.ONE_SPEC)
    if key not in body:
        raise exceptions.BadRequest("Request body and URI mismatch: the key in the body is not the URL's.")
    core(req).group_types.set_specs(group_type_id, body)
    return router.json_response(body)


@since(GROUP_TYPES)
def delete_spec(req: router.Request, group_type_id: str, key: str) -> webob.Response:
    authorize(req, "group:group_types_specs:delete")
    core(req).group_types.delete_spec(group_type_id, key)
    return router.empty_response(202)


# -- groups -----------------------------------------------------------------------------------------------

def _group_owned(req: router.Request, rule: str, group_id: str) -> None:
    authorize_owned(req, rule, core(req).groups.owner(group_id))


def _group_view(req: router.Request, g: dict[str, Any]) -> dict[str, Any]:
    ctx = context(req)
    project = version_of(req) >= Version(3, 58) and core(req).policy.check(
        ctx, "group:group_project_attribute", {"project_id": g["project_id"], "user_id": ctx.user_id})
    return views.group_detail(g, version_of(req), is_true(req.GET.get("list_volume")), project)


@since(GROUPS)
def create_group(req: router.Request) -> webob.Response:
    authorize(req, "group:create")
    body = body_of(req)
    validation.validate(body, schemas.CREATE_GROUP)
    spec = body["group"]
    made = core(req).groups.create(context(req), spec.get("name"), spec.get("description"), spec["group_type"],
                                   spec["volume_types"], spec.get("availability_zone"))
    return router.json_response({"group": views.group_summary(made)}, status=202)


@since(GROUP_SNAPSHOTS)
def create_group_from_source(req: router.Request) -> webob.Response:
    """``POST /groups/action`` with ``create-from-src`` (``group_snapshot_id`` or ``source_group_id``)."""
    authorize(req, "group:create")
    body = body_of(req)
    validation.validate(body, schemas.CREATE_FROM_SOURCE)
    spec = body["create-from-src"]
    snapshot_id, group_id = spec.get("group_snapshot_id"), spec.get("source_group_id")
    if (snapshot_id is None) == (group_id is None):
        raise exceptions.BadRequest("Invalid input received: name either group_snapshot_id or source_group_id "
                                    "(one of them) to create a group from.")
    made = core(req).groups.create_from_source(context(req), spec.get("name"), spec.get("description"),
                                               snapshot_id, group_id)
    return router.json_response({"group": views.group_summary(made)}, status=202)


def _list_groups(req: router.Request, detailed: bool) -> webob.Response:
    authorize(req, "group:get_all")
    query = _sorted_as(list_query(req, GROUP_FILTERS), groups_core.GROUP_SORT_KEYS)
    found, more = core(req).groups.list(context(req), query)
    items = [_group_view(req, g) if detailed else views.group_summary(g) for g in found]
    return page_response(req, "groups", items, more)


@since(GROUPS)
def list_groups(req: router.Request) -> webob.Response:
    return _list_groups(req, detailed=False)


@since(GROUPS)
def list_groups_detail(req: router.Request) -> webob.Response:
    return _list_groups(req, detailed=True)


@since(GROUPS)
def show_group(req: router.Request, group_id: str) -> webob.Response:
    _group_owned(req, "group:get", group_id)
    return router.json_response({"group": _group_view(req, core(req).groups.get(context(req), group_id))})


def _volume_ids(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@since(GROUPS)
def update_group(req: router.Request, group_id: str) -> webob.Response:
    _group_owned(req, "group:update", group_id)
    body = body_of(req)
    validation.validate(body, schemas.UPDATE_GROUP)
    spec = body["group"]
    add, remove = _volume_ids(spec.get("add_volumes")), _volume_ids(spec.get("remove_volumes"))
    changes = {k: spec[k] for k in ("name", "description") if k in spec}
    if not changes and not add and not remove:
        raise exceptions.BadRequest("Invalid input received: name, description, add_volumes and remove_volumes "
                                    "cannot all be empty.")
    core(req).groups.update(context(req), group_id, changes, add, remove)
    return router.empty_response(202)


@since(GROUPS)
def group_action(req: router.Request, group_id: str) -> webob.Response:
    """``POST /groups/{id}/action``: ``delete`` (``delete-volumes``), ``reset_status`` (3.20, admins)."""
    body = body_of(req)
    name, args = _only_action(body, schemas.GROUP_ACTIONS)
    if name == "reset_status" and version_of(req) < GROUP_RESET:
        raise exceptions.NotFound(f"The reset_status action needs microversion {GROUP_RESET} or later.")
    _group_owned(req, "group:delete" if name == "delete" else "group:reset_status", group_id)
    validation.validate(args if args is not None else {}, schemas.GROUP_ACTIONS[name])
    if name == "delete":
        core(req).groups.delete(context(req), group_id, _bool((args or {}).get("delete-volumes", False)))
    else:
        status = args["status"].strip().lower()
        if status not in groups_core.GROUP_STATUSES:
            raise exceptions.BadRequest(f"Invalid group status {status[:50]!r}: it must be one of "
                                        f"{', '.join(groups_core.GROUP_STATUSES)}.")
        core(req).groups.reset_status(context(req), group_id, status)
    return router.empty_response(202)


# -- group snapshots --------------------------------------------------------------------------------------

def _group_snapshot_owned(req: router.Request, rule: str, group_snapshot_id: str) -> None:
    authorize_owned(req, rule, core(req).group_snapshots.owner(group_snapshot_id))


def _group_snapshot_view(req: router.Request, gs: dict[str, Any]) -> dict[str, Any]:
    ctx = context(req)
    project = version_of(req) >= Version(3, 58) and core(req).policy.check(
        ctx, "group:group_snapshot_project_attribute", {"project_id": gs["project_id"], "user_id": ctx.user_id})
    return views.group_snapshot_detail(gs, version_of(req), project)


@since(GROUP_SNAPSHOTS)
def create_group_snapshot(req: router.Request) -> webob.Response:
    authorize(req, "group:create_group_snapshot")
    body = body_of(req)
    validation.validate(body, schemas.CREATE_GROUP_SNAPSHOT)
    spec = body["group_snapshot"]
    made = core(req).group_snapshots.create(context(req), spec["group_id"], spec.get("name"),
                                            spec.get("description"))
    return router.json_response({"group_snapshot": views.group_snapshot_summary(made)}, status=202)


def _list_group_snapshots(req: router.Request, detailed: bool) -> webob.Response:
    authorize(req, "group:get_all_group_snapshots")
    query = _sorted_as(list_query(req, GROUP_SNAPSHOT_FILTERS), groups_core.GROUP_SORT_KEYS[:3] + (
        "created_at", "updated_at"))
    found, more = core(req).group_snapshots.list(context(req), query)
    items = [_group_snapshot_view(req, gs) if detailed else {"id": gs["id"], "name": gs["name"]} for gs in found]
    return page_response(req, "group_snapshots", items, more)


@since(GROUP_SNAPSHOTS)
def list_group_snapshots(req: router.Request) -> webob.Response:
    return _list_group_snapshots(req, detailed=False)


@since(GROUP_SNAPSHOTS)
def list_group_snapshots_detail(req: router.Request) -> webob.Response:
    return _list_group_snapshots(req, detailed=True)


@since(GROUP_SNAPSHOTS)
def show_group_snapshot(req: router.Request, group_snapshot_id: str) -> webob.Response:
    _group_snapshot_owned(req, "group:get_group_snapshot", group_snapshot_id)
    found = core(req).group_snapshots.get(context(req), group_snapshot_id)
    return router.json_response({"group_snapshot": _group_snapshot_view(req, found)})


@since(GROUP_SNAPSHOTS)
def delete_group_snapshot(req: router.Request, group_snapshot_id: str) -> webob.Response:
    _group_snapshot_owned(req, "group:delete_group_snapshot", group_snapshot_id)
    core(req).group_snapshots.delete(context(req), group_snapshot_id)
    return router.empty_response(202)


@since(GROUP_SNAPSHOT_RESET)
def group_snapshot_action(req: router.Request, group_snapshot_id: str) -> webob.Response:
    """``POST /group_snapshots/{id}/action``: ``reset_status`` (3.19, admins)."""
    body = body_of(req)
    _, args = _only_action(body, schemas.GROUP_SNAPSHOT_ACTIONS)
    _group_snapshot_owned(req, "group:reset_group_snapshot_status", group_snapshot_id)
    validation.validate(args, schemas.GROUP_SNAPSHOT_ACTIONS["reset_status"])
    status = args["status"].strip().lower()
    if status not in groups_core.GROUP_SNAPSHOT_STATUSES:
        raise exceptions.BadRequest(f"Invalid group snapshot status {status[:50]!r}: it must be one of "
                                    f"{', '.join(groups_core.GROUP_SNAPSHOT_STATUSES)}.")
    core(req).group_snapshots.reset_status(context(req), group_snapshot_id, status)
    return router.empty_response(202)


def routes(prefix: str) -> router.RouteTable:
    group_type = f"{prefix}/group_types/{{group_type_id}}"
    group = f"{prefix}/groups/{{group_id}}"
    group_snapshot = f"{prefix}/group_snapshots/{{group_snapshot_id}}"
    return {
        f"{prefix}/group_types": {"GET": list_group_types, "POST": create_group_type},
        group_type: {"GET": show_group_type, "PUT": update_group_type, "DELETE": delete_group_type},
        f"{group_type}/group_specs": {"GET": list_specs, "POST": create_specs},
        f"{group_type}/group_specs/{{key}}": {"GET": show_spec, "PUT": update_spec, "DELETE": delete_spec},
        f"{prefix}/groups": {"GET": list_groups, "POST": create_group},
        f"{prefix}/groups/detail": {"GET": list_groups_detail},
        f"{prefix}/groups/action": {"POST": create_group_from_source},
        group: {"GET": show_group, "PUT": update_group},
        f"{group}/action": {"POST": group_action},
        f"{prefix}/group_snapshots": {"GET": list_group_snapshots, "POST": create_group_snapshot},
        f"{prefix}/group_snapshots/detail": {"GET": list_group_snapshots_detail},
        group_snapshot: {"GET": show_group_snapshot, "DELETE": delete_group_snapshot},
        f"{group_snapshot}/action": {"POST": group_snapshot_action},
    }
