"""Users, passwords, groups and membership."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.identity.api import auth_schema
from nubis.identity.api.common import authorize, bool_filter, collection, core, entity_body
from nubis.identity.core import resources, roles, unique, users

USER_SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 255}, "domain_id": auth_schema.ID,
    "password": {"type": ["string", "null"], "maxLength": auth_schema.SECRET["maxLength"]},
    "enabled": {"type": "boolean"},
    "default_project_id": {"type": ["string", "null"], "maxLength": 64}, "description": {"type": ["string", "null"]},
    "options": {"type": "object"}}}
GROUP_SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 64}, "domain_id": {"type": "string"},
    "description": {"type": ["string", "null"]}}}
_GROUP_FIELDS = {"name", "domain_id", "description", "id"}
PASSWORD_SCHEMA = {"type": "object", "properties": {"user": {
    "type": "object", "properties": {"password": auth_schema.SECRET, "original_password": auth_schema.SECRET},
    "required": ["password", "original_password"], "additionalProperties": False}},
    "required": ["user"], "additionalProperties": False}
_USER_FIELDS = {"name", "domain_id", "password", "enabled", "default_project_id", "description", "options", "id"}


def _user_body(s: Any, user: Any) -> dict[str, Any]:
    current = users.current_password(s, user.id)
    return users.user_to_dict(user, current.expires_at if current else None)


def _own_domain(req: router.Request) -> str | None:
    """A domain-scoped caller's domain: what its listings are limited to (policy checked any filter it gave)."""
    ctx = req.context
    return ctx.domain_id if ctx.domain_id and not ctx.project_id and not ctx.system_scope else None


def list_users(req: router.Request) -> webob.Response:
    domain_id = req.query_one("domain_id")
    authorize(req, "list_users", {"target.domain_id": domain_id or req.context.domain_id})
    filters = {"name": req.query_one("name"), "domain_id": domain_id or _own_domain(req),
               "enabled": bool_filter(req, "enabled")}
    with core(req).db.reader() as s:
        return router.json_response(collection(req, "users", [_user_body(s, u) for u in users.list_users(s, filters)]))


def get_user(req: router.Request, user_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        user = users.get_user(s, user_id)
        authorize(req, "get_user", {"target.user.id": user_id, "target.user.domain_id": user.domain_id})
        return router.json_response({"user": _user_body(s, user)})


def create_user(req: router.Request) -> webob.Response:
    u = entity_body(req, "user", set(), {"name"})
    validation.validate(u, USER_SCHEMA)
    domain_id = u.get("domain_id") or req.context.domain_id or resources.DEFAULT_DOMAIN_ID
    authorize(req, "create_user", {"target.user.domain_id": domain_id})
    with core(req).db.writer() as s:
        resources.get_domain(s, domain_id)
        if u.get("default_project_id"):
            resources.get_project(s, u["default_project_id"])
        user = users.create_user(s, core(req).conf, u["name"], domain_id, u.get("password"), u.get("enabled", True),
                                 u.get("default_project_id"), u.get("description") or "",
                                 {k: v for k, v in u.items() if k not in _USER_FIELDS})
        return router.json_response({"user": _user_body(s, user)}, status=201)


def update_user(req: router.Request, user_id: str) -> webob.Response:
    u = entity_body(req, "user", set())
    validation.validate(u, USER_SCHEMA)
    revoke = False
    with core(req).db.writer() as s:
        user = users.get_user(s, user_id)
        authorize(req, "update_user", {"target.user.domain_id": user.domain_id,
                                       "target.privileged": roles.is_privileged(s, user_id)})
        if "domain_id" in u and u["domain_id"] != user.domain_id:
            raise exceptions.BadRequest("A user cannot move to another domain.")
        if u.get("default_project_id"):
            resources.get_project(s, u["default_project_id"])
        for key in ("name", "enabled", "default_project_id", "description"):
            if key in u:
                setattr(user, key, u[key] if key != "description" else (u[key] or ""))
        unique.flush(s, "user", user.name)
        if u.get("enabled") is False:
            revoke = True
        if u.get("password"):
            users.set_password(s, core(req).conf, user, u["password"])
            revoke = True
        extra = {k: v for k, v in u.items() if k not in _USER_FIELDS}
        if extra:
            user.extra = {**dict(user.extra or {}), **extra}
        body = _user_body(s, user)
    if revoke:
        core(req).revoke(user_id=user_id)
    return router.json_response({"user": body})


def delete_user(req: router.Request, user_id: str) -> webob.Response:
    with core(req).db.writer() as s:
        user = users.get_user(s, user_id)
        authorize(req, "delete_user", {"target.user.domain_id": user.domain_id,
                                       "target.privileged": roles.is_privileged(s, user_id)})
        roles.delete_assignments_for(s, user_id)
        s.delete(user)
    core(req).revoke(user_id=user_id)
    return router.empty_response()


def change_password(req: router.Request, user_id: str) -> webob.Response:
    """A user changes their own password, proving the old one (no token needed, as in Keystone)."""
    body = req.json_body()
    validation.validate(body, PASSWORD_SCHEMA)
    # Public and two hashes deep: the core waits for a hashing slot like a login does.
    core(req).change_own_password(user_id, body["user"]["original_password"], body["user"]["password"])
    return router.empty_response()


change_password = router.public(change_password)


def user_groups(req: router.Request, user_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        user = users.get_user(s, user_id)
        authorize(req, "list_groups_for_user", {"target.user.id": user_id, "target.user.domain_id": user.domain_id})
        return router.json_response(collection(req, "groups", [users.group_to_dict(g) for g in users.groups_of(s, user_id)]))


def user_projects(req: router.Request, user_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        user = users.get_user(s, user_id)
        authorize(req, "list_user_projects", {"target.user.id": user_id, "target.user.domain_id": user.domain_id})
        out = [resources.project_to_dict(p) for p in resources.list_projects(s, {})
               if roles.effective_role_ids(s, user_id, "project", p.id)]
        return router.json_response(collection(req, "projects", out))


# -- groups ---------------------------------------------------------------------------------

def list_groups(req: router.Request) -> webob.Response:
    domain_id = req.query_one("domain_id")
    authorize(req, "list_groups", {"target.domain_id": domain_id or req.context.domain_id})
    with core(req).db.reader() as s:
        items = users.list_groups(s, {"name": req.query_one("name"), "domain_id": domain_id or _own_domain(req)})
        return router.json_response(collection(req, "groups", [users.group_to_dict(g) for g in items]))


def get_group(req: router.Request, group_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        group = users.get_group(s, group_id)
        authorize(req, "get_group", {"target.group.domain_id": group.domain_id})
        return router.json_response({"group": users.group_to_dict(group)})


def create_group(req: router.Request) -> webob.Response:
    g = entity_body(req, "group", set(), {"name"})
    validation.validate(g, GROUP_SCHEMA)
    domain_id = g.get("domain_id") or req.context.domain_id or resources.DEFAULT_DOMAIN_ID
    authorize(req, "manage_group", {"target.group.domain_id": domain_id, "target.privileged": False})
    with core(req).db.writer() as s:
        resources.get_domain(s, domain_id)
        group = users.create_group(s, g["name"], domain_id, g.get("description") or "",
                                   {k: v for k, v in g.items() if k not in _GROUP_FIELDS})
        return router.json_response({"group": users.group_to_dict(group)}, status=201)


def update_group(req: router.Request, group_id: str) -> webob.Response:
    g = entity_body(req, "group", set())
    validation.validate(g, GROUP_SCHEMA)
    with core(req).db.writer() as s:
        group = _managed_group(req, s, group_id)
        if "domain_id" in g and g["domain_id"] != group.domain_id:
            raise exceptions.BadRequest("A group cannot move to another domain.")
        for key in ("name", "description"):
            if key in g:
                setattr(group, key, g[key] or "")
        extra = {k: v for k, v in g.items() if k not in _GROUP_FIELDS}
        if extra:
            group.extra = {**dict(group.extra or {}), **extra}
        unique.flush(s, "group", group.name)
        return router.json_response({"group": users.group_to_dict(group)})


def delete_group(req: router.Request, group_id: str) -> webob.Response:
    with core(req).db.writer() as s:
        group = _managed_group(req, s, group_id)
        members = [u.id for u in users.users_in(s, group_id)]
        roles.delete_assignments_for(s, group_id)
        s.delete(group)
    for member in members:
        core(req).revoke(user_id=member)
    return router.empty_response()


def _managed_group(req: router.Request, s: Any, group_id: str) -> Any:
    """The group, once the caller may change it (its domain, and it carries no admin or system role)."""
    group = users.get_group(s, group_id)
    authorize(req, "manage_group", {"target.group.domain_id": group.domain_id,
                                    "target.privileged": roles.is_privileged(s, group_id)})
    return group


def group_users(req: router.Request, group_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        group = users.get_group(s, group_id)
        authorize(req, "get_group", {"target.group.domain_id": group.domain_id})
        return router.json_response(collection(req, "users", [_user_body(s, u) for u in users.users_in(s, group_id)]))


def add_member(req: router.Request, group_id: str, user_id: str) -> webob.Response:
    with core(req).db.writer() as s:
        _managed_group(req, s, group_id)
        users.get_user(s, user_id)
        users.add_member(s, group_id, user_id)
    return router.empty_response()


def check_member(req: router.Request, group_id: str, user_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        group = users.get_group(s, group_id)
        authorize(req, "get_group", {"target.group.domain_id": group.domain_id})
        if user_id not in [u.id for u in users.users_in(s, group_id)]:
            raise exceptions.NotFound(f"User {user_id} is not a member of group {group_id}.")
    return router.empty_response()


def remove_member(req: router.Request, group_id: str, user_id: str) -> webob.Response:
    with core(req).db.writer() as s:
        _managed_group(req, s, group_id)
        users.remove_member(s, group_id, user_id)
    core(req).revoke(user_id=user_id)
    return router.empty_response()
