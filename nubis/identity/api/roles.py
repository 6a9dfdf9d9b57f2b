"""Roles, implied roles, grants on projects/domains/system (incl. OS-INHERIT), role assignments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.identity.api.common import authorize, bool_filter, collection, core, entity_body
from nubis.identity.core import resources, roles, unique, users
from nubis.identity.db.models import Role

ROLE_SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 255}, "domain_id": {"type": ["string", "null"]},
    "description": {"type": ["string", "null"]}, "options": {"type": "object"}}}
_ROLE_FIELDS = {"name", "domain_id", "description", "options", "id"}


def list_roles(req: router.Request) -> webob.Response:
    authorize(req, "list_roles")
    with core(req).db.reader() as s:
        items = roles.list_roles(s, req.query_one("name"), req.query_one("domain_id"))
        return router.json_response(collection(req, "roles", [roles.role_to_dict(r) for r in items]))


def get_role(req: router.Request, role_id: str) -> webob.Response:
    authorize(req, "list_roles")
    with core(req).db.reader() as s:
        return router.json_response({"role": roles.role_to_dict(roles.get_role(s, role_id))})


def create_role(req: router.Request) -> webob.Response:
    authorize(req, "manage_role")
    r = entity_body(req, "role", set(), {"name"})
    validation.validate(r, ROLE_SCHEMA)
    with core(req).db.writer() as s:
        if r.get("domain_id"):
            resources.get_domain(s, r["domain_id"])
        role = roles.create_role(s, r["name"], r.get("domain_id"), r.get("description") or "",
                                 extra={k: v for k, v in r.items() if k not in _ROLE_FIELDS})
        return router.json_response({"role": roles.role_to_dict(role)}, status=201)


def update_role(req: router.Request, role_id: str) -> webob.Response:
    authorize(req, "manage_role")
    r = entity_body(req, "role", set())
    validation.validate(r, ROLE_SCHEMA)
    with core(req).db.writer() as s:
        role = roles.get_role(s, role_id)
        if "name" in r and r["name"] != role.name and roles.find_role(s, r["name"], role.domain_id
                                                                      if role.domain_id != roles.GLOBAL else None):
            raise unique.duplicate("role", r["name"])
        for key in ("name", "description"):
            if key in r:
                setattr(role, key, r[key] or "")
        extra = {k: v for k, v in r.items() if k not in _ROLE_FIELDS}
        if extra:
            role.extra = {**dict(role.extra or {}), **extra}
        unique.flush(s, "role", role.name)
        return router.json_response({"role": roles.role_to_dict(role)})


def delete_role(req: router.Request, role_id: str) -> webob.Response:
    authorize(req, "manage_role")
    with core(req).db.writer() as s:
        role = roles.get_role(s, role_id)
        holders = {a.actor_id for a in s.query(roles.Assignment).filter_by(role_id=role_id)}
        s.delete(role)
    for holder in holders:
        core(req).revoke(user_id=holder)
    return router.empty_response()


# -- implied roles -------------------------------------------------------------------

def _ref(role: Role) -> dict[str, Any]:
    return {"id": role.id, "name": role.name, "links": {"self": f"/v3/roles/{role.id}"}}


def list_implied(req: router.Request, prior_role_id: str) -> webob.Response:
    authorize(req, "list_roles")
    with core(req).db.reader() as s:
        prior = roles.get_role(s, prior_role_id)
        implied = [roles.get_role(s, i) for i in roles.implied_map(s).get(prior_role_id, ())]
        return router.json_response({"role_inference": {"prior_role": _ref(prior), "implies": [_ref(r) for r in implied]},
                                     "links": {"self": req.path_url}})


def create_implied(req: router.Request, prior_role_id: str, implied_role_id: str) -> webob.Response:
    authorize(req, "manage_role")
    with core(req).db.writer() as s:
        roles.add_implied(s, prior_role_id, implied_role_id)
        body = {"role_inference": {"prior_role": _ref(roles.get_role(s, prior_role_id)),
                                   "implies": _ref(roles.get_role(s, implied_role_id))},
                "links": {"self": req.path_url}}
    return router.json_response(body, status=201)


def check_implied(req: router.Request, prior_role_id: str, implied_role_id: str) -> webob.Response:
    authorize(req, "list_roles")
    with core(req).db.reader() as s:
        if implied_role_id not in roles.implied_map(s).get(prior_role_id, set()):
            raise exceptions.NotFound(f"{prior_role_id} does not imply {implied_role_id}.")
        body = {"role_inference": {"prior_role": _ref(roles.get_role(s, prior_role_id)),
                                   "implies": _ref(roles.get_role(s, implied_role_id))}}
    if req.method == "HEAD":
        return router.empty_response(204)
    return router.json_response(body)


def delete_implied(req: router.Request, prior_role_id: str, implied_role_id: str) -> webob.Response:
    authorize(req, "manage_role")
    with core(req).db.writer() as s:
        rule = s.get(roles.ImpliedRole, (prior_role_id, implied_role_id))
        if rule is None:
            raise exceptions.NotFound(f"{prior_role_id} does not imply {implied_role_id}.")
        s.delete(rule)
    return router.empty_response()


def list_inferences(req: router.Request) -> webob.Response:
    authorize(req, "list_roles")
    with core(req).db.reader() as s:
        out = [{"prior_role": _ref(roles.get_role(s, prior)), "implies": [_ref(roles.get_role(s, i)) for i in implied]}
               for prior, implied in roles.implied_map(s).items()]
    return router.json_response({"role_inferences": out, "links": {"self": req.path_url}})


# -- grants -----------------------------------------------------------------------------

def _check_grant_parties(s: Any, actor: str, actor_id: str, target: str, target_id: str) -> str:
    """Validate both ends of a grant; returns the domain the grant belongs to (for policy)."""
    if actor == "user":
        users.get_user(s, actor_id)
    else:
        users.get_group(s, actor_id)
    if target == "project":
        return resources.get_project(s, target_id).domain_id
    if target == "domain":
        return resources.get_domain(s, target_id).id
    return ""


def _authorize_grant(req: router.Request, s: Any, actor: str, actor_id: str, target: str, target_id: str,
                     role_id: str) -> None:
    domain = _check_grant_parties(s, actor, actor_id, target, target_id)
    role = roles.get_role(s, role_id)
    authorize(req, "manage_grant", {"target.domain_id": domain, "target.role.name": role.name})


def grant_handlers(actor: str, target: str, inherited: bool = False) -> dict[str, Callable[..., webob.Response]]:
    """PUT/HEAD/GET/DELETE for ``/v3/{target}s/{id}/{actor}s/{id}/roles/{role_id}``."""

    def params(kw: dict[str, str]) -> tuple[str, str, str]:
        target_id = "system" if target == "system" else kw[f"{target}_id"]
        return kw[f"{actor}_id"], target_id, kw["role_id"]

    def put(req: router.Request, **kw: str) -> webob.Response:
        actor_id, target_id, role_id = params(kw)
        with core(req).db.writer() as s:
            _authorize_grant(req, s, actor, actor_id, target, target_id, role_id)
            roles.grant(s, actor, actor_id, target, target_id, role_id, inherited)
        return router.empty_response()

    def head(req: router.Request, **kw: str) -> webob.Response:
        actor_id, target_id, role_id = params(kw)
        with core(req).db.reader() as s:
            domain = _check_grant_parties(s, actor, actor_id, target, target_id)
            authorize(req, "check_grant", {"target.domain_id": domain})
            if not roles.has_grant(s, actor, actor_id, target, target_id, role_id, inherited):
                raise exceptions.NotFound(f"Could not find role assignment with role: {role_id}, {actor}: {actor_id}, "
                                          f"{target}: {target_id}.")
        return router.empty_response()

    def delete(req: router.Request, **kw: str) -> webob.Response:
        actor_id, target_id, role_id = params(kw)
        with core(req).db.writer() as s:
            _authorize_grant(req, s, actor, actor_id, target, target_id, role_id)
            roles.revoke(s, actor, actor_id, target, target_id, role_id, inherited)
            affected = [actor_id] if actor == "user" else [u.id for u in users.users_in(s, actor_id)]
        for user_id in affected:
            event = {"user_id": user_id}
            if target == "project" and not inherited:
                event["project_id"] = target_id
            core(req).revoke(**event)
        return router.empty_response()

    return {"PUT": put, "HEAD": head, "GET": head, "DELETE": delete}


def grant_list_handler(actor: str, target: str, inherited: bool = False) -> Callable[..., webob.Response]:
    def list_grants(req: router.Request, **kw: str) -> webob.Response:
        actor_id = kw[f"{actor}_id"]
        target_id = "system" if target == "system" else kw[f"{target}_id"]
        with core(req).db.reader() as s:
            domain = _check_grant_parties(s, actor, actor_id, target, target_id)
            authorize(req, "check_grant", {"target.domain_id": domain})
            ids = roles.direct_role_ids(s, actor, actor_id, target, target_id, inherited)
            return router.json_response(collection(req, "roles", [roles.role_to_dict(roles.get_role(s, i)) for i in ids]))

    return list_grants


def list_role_assignments(req: router.Request) -> webob.Response:
    filters: dict[str, Any] = {k: req.query_one(k) for k in (
        "user.id", "group.id", "role.id", "scope.project.id", "scope.domain.id", "scope.system",
        "scope.OS-INHERIT:inherited_to")}
    if req.query_one("effective") is not None and filters["group.id"]:
        raise exceptions.BadRequest("Combining effective and group filter will always result in an empty list.")
    filters["effective"] = req.query_one("effective") is not None
    filters["include_names"] = bool(bool_filter(req, "include_names"))
    domain = filters["scope.domain.id"]
    with core(req).db.reader() as s:
        if filters["scope.project.id"]:
            domain = resources.get_project(s, filters["scope.project.id"]).domain_id
        authorize(req, "list_role_assignments", {"target.domain_id": domain or req.context.domain_id})
        ctx = req.context
        if ctx.domain_id and not ctx.project_id and not ctx.system_scope:
            filters["within_domain"] = ctx.domain_id  # a domain manager sees its own domain's grants only
        items = roles.list_assignments(s, filters)
    return router.json_response({"role_assignments": items, "links": {"self": req.path_url, "previous": None, "next": None}})
