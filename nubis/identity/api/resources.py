"""Domains, projects and project tags."""

from __future__ import annotations

from typing import Any

import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.identity.api.common import authorize, bool_filter, collection, core, entity_body
from nubis.identity.core import domains, resources, roles, unique

_NAME = {"type": "string", "minLength": 1, "maxLength": 64}
_TAGS = {"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^,/]*$"},
         "maxItems": 80}
DOMAIN_SCHEMA = {"type": "object", "properties": {
    "name": _NAME, "description": {"type": ["string", "null"]}, "enabled": {"type": "boolean"},
    "tags": _TAGS, "id": {"type": "string", "maxLength": 64}, "options": {"type": "object"}}}
PROJECT_SCHEMA = {"type": "object", "properties": {
    "name": _NAME, "description": {"type": ["string", "null"]}, "enabled": {"type": "boolean"},
    "domain_id": {"type": ["string", "null"]}, "parent_id": {"type": ["string", "null"]},
    "is_domain": {"type": "boolean"}, "tags": _TAGS, "options": {"type": "object"}}}
_CORE_FIELDS = {"name", "description", "enabled", "tags", "id", "options", "domain_id", "parent_id", "is_domain"}


def _extra(entity: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in entity.items() if k not in _CORE_FIELDS}


# -- domains -------------------------------------------------------------------------

def list_domains(req: router.Request) -> webob.Response:
    authorize(req, "list_domains")
    with core(req).db.reader() as s:
        items = resources.list_domains(s, req.query_one("name"), bool_filter(req, "enabled"))
        return router.json_response(collection(req, "domains", [resources.domain_to_dict(d) for d in items]))


def get_domain(req: router.Request, domain_id: str) -> webob.Response:
    authorize(req, "get_domain", {"target.domain.id": domain_id})
    with core(req).db.reader() as s:
        return router.json_response({"domain": resources.domain_to_dict(resources.get_domain(s, domain_id))})


def create_domain(req: router.Request) -> webob.Response:
    authorize(req, "create_domain")
    d = entity_body(req, "domain", set(), {"name"})
    validation.validate(d, DOMAIN_SCHEMA)
    with core(req).db.writer() as s:
        domain = resources.create_domain(s, d["name"], d.get("description") or "", d.get("enabled", True),
                                         d.get("id"), d.get("tags"), _extra(d))
        return router.json_response({"domain": resources.domain_to_dict(domain)}, status=201)


def update_domain(req: router.Request, domain_id: str) -> webob.Response:
    authorize(req, "update_domain", {"target.domain.id": domain_id})
    d = entity_body(req, "domain", set())
    validation.validate(d, DOMAIN_SCHEMA)
    if "id" in d and d["id"] != domain_id:
        raise exceptions.BadRequest("The domain id cannot be changed.")
    with core(req).db.writer() as s:
        domain = resources.get_domain(s, domain_id)
        disabling = domain.enabled and d.get("enabled") is False
        _apply(domain, d)
        unique.flush(s, "domain", domain.name)
        body = resources.domain_to_dict(domain)
    if disabling:
        core(req).revoke(domain_id=domain_id)
    return router.json_response({"domain": body})


def delete_domain(req: router.Request, domain_id: str) -> webob.Response:
    authorize(req, "delete_domain", {"target.domain.id": domain_id})
    return _delete_domain(req, domain_id)


def _delete_domain(req: router.Request, domain_id: str) -> webob.Response:
    with core(req).db.writer() as s:
        gone = domains.delete_domain(s, resources.get_domain(s, domain_id))
    core(req).revoke(domain_id=domain_id)
    for project_id in gone.project_ids:
        core(req).revoke(project_id=project_id)
    for user_id in gone.user_ids:
        core(req).revoke(user_id=user_id)
    return router.empty_response()


def _apply(obj: Any, values: dict[str, Any]) -> None:
    for key in ("name", "description", "enabled", "tags"):
        if key in values:
            setattr(obj, key, values[key] if key != "description" else (values[key] or ""))
    extra = _extra(values)
    if extra:
        obj.extra = {**dict(obj.extra or {}), **extra}


# -- projects ------------------------------------------------------------------------

def list_projects(req: router.Request) -> webob.Response:
    domain_id = req.query_one("domain_id")
    authorize(req, "list_projects", {"target.domain_id": domain_id or req.context.domain_id})
    filters: dict[str, Any] = {"name": req.query_one("name"), "domain_id": domain_id, "parent_id": req.query_one("parent_id"),
               "enabled": bool_filter(req, "enabled"), "is_domain": bool_filter(req, "is_domain") or False}
    tags = req.query_one("tags")
    if tags:
        filters["tags"] = tags.split(",")
    with core(req).db.reader() as s:
        items = resources.list_projects(s, filters)
        if req.context.domain_id and not req.context.project_id and not req.context.system_scope:
            items = [p for p in items if p.domain_id == req.context.domain_id]
        return router.json_response(collection(req, "projects", [resources.project_to_dict(p) for p in items]))


def _acts_as_domain(req: router.Request, project_id: str) -> bool:
    """Whether ``project_id`` names a domain: Keystone's projects API reaches those too (``is_domain``)."""
    with core(req).db.reader() as s:
        return resources.is_domain(s, project_id)


def get_project(req: router.Request, project_id: str) -> webob.Response:
    if _acts_as_domain(req, project_id):
        authorize(req, "get_domain", {"target.domain.id": project_id})
        with core(req).db.reader() as s:
            return router.json_response({"project": resources.project_to_dict(resources.get_domain(s, project_id))})
    with core(req).db.reader() as s:
        project = resources.get_project(s, project_id)
        authorize(req, "get_project", {"target.project.id": project_id, "target.project.domain_id": project.domain_id})
        body = resources.project_to_dict(project)
        if req.GET.get("subtree_as_list") is not None:
            body["subtree"] = [resources.project_to_dict(p) for p in resources.subtree(s, project_id)]
        if req.GET.get("parents_as_list") is not None:
            body["parents"] = [resources.project_to_dict(p) for p in resources.parents(s, project)]
        if req.GET.get("subtree_as_ids") is not None:
            body["subtree"] = _id_tree(s, project_id)
        if req.GET.get("parents_as_ids") is not None:
            tree: dict[str, Any] | None = None
            for parent in reversed(resources.parents(s, project)):
                tree = {parent.id: tree}
            body["parents"] = tree
        return router.json_response({"project": body})


def _id_tree(s: Any, project_id: str) -> dict[str, Any] | None:
    kids = resources.children(s, project_id)
    return {k.id: _id_tree(s, k.id) for k in kids} or None


def create_project(req: router.Request) -> webob.Response:
    p = entity_body(req, "project", set(), {"name"})
    validation.validate(p, PROJECT_SCHEMA)
    domain_id = p.get("domain_id") or req.context.domain_id or resources.DEFAULT_DOMAIN_ID
    with core(req).db.writer() as s:
        if p.get("parent_id") and not p.get("domain_id"):
            domain_id = resources.get_project(s, p["parent_id"]).domain_id
        authorize(req, "create_project", {"target.project.domain_id": domain_id})
        if p.get("is_domain"):
            domain = resources.create_domain(s, p["name"], p.get("description") or "", p.get("enabled", True),
                                             tags=p.get("tags"))
            return router.json_response({"project": resources.project_to_dict(domain)}, status=201)
        project = resources.create_project(s, p["name"], domain_id, p.get("parent_id"), p.get("description") or "",
                                           p.get("enabled", True), p.get("tags"), _extra(p))
        return router.json_response({"project": resources.project_to_dict(project)}, status=201)


def update_project(req: router.Request, project_id: str) -> webob.Response:
    p = entity_body(req, "project", set())
    validation.validate(p, PROJECT_SCHEMA)
    as_domain = _acts_as_domain(req, project_id)
    with core(req).db.writer() as s:
        if as_domain:
            authorize(req, "update_domain", {"target.domain.id": project_id})
            project = resources.get_domain(s, project_id)
        else:
            project = resources.get_project(s, project_id)
            authorize(req, "update_project", {"target.project.domain_id": project.domain_id})
        shown = resources.project_to_dict(project)
        for fixed in ("domain_id", "parent_id", "is_domain"):
            if fixed in p and p[fixed] != shown[fixed]:
                raise exceptions.BadRequest(f"The project's {fixed} cannot be changed.")
        disabling = project.enabled and p.get("enabled") is False
        _apply(project, p)
        unique.flush(s, "domain" if as_domain else "project", project.name)
        body = resources.project_to_dict(project)
    if disabling:
        core(req).revoke(**({"domain_id": project_id} if as_domain else {"project_id": project_id}))
    return router.json_response({"project": body})


def delete_project(req: router.Request, project_id: str) -> webob.Response:
    if _acts_as_domain(req, project_id):
        authorize(req, "delete_domain", {"target.domain.id": project_id})
        return _delete_domain(req, project_id)
    with core(req).db.writer() as s:
        project = resources.get_project(s, project_id)
        authorize(req, "delete_project", {"target.project.domain_id": project.domain_id})
        resources.delete_project(s, project)
        roles.delete_assignments_for(s, project_id)
    core(req).revoke(project_id=project_id)
    return router.empty_response()


# -- project tags ----------------------------------------------------------------------


def list_tags(req: router.Request, project_id: str) -> webob.Response:
    with core(req).db.reader() as s:
        project = resources.get_project(s, project_id)
        authorize(req, "get_project", {"target.project.id": project_id, "target.project.domain_id": project.domain_id})
        return router.json_response({"tags": list(project.tags or [])})


def replace_tags(req: router.Request, project_id: str) -> webob.Response:
    body = req.json_body()
    validation.validate(body, {"type": "object", "properties": {"tags": _TAGS}, "required": ["tags"]})
    with core(req).db.writer() as s:
        project = resources.get_project(s, project_id)
        authorize(req, "update_project", {"target.project.domain_id": project.domain_id})
        project.tags = list(dict.fromkeys(body["tags"]))
        return router.json_response({"tags": project.tags})


def check_tag(req: router.Request, project_id: str, tag: str) -> webob.Response:
    with core(req).db.reader() as s:
        project = resources.get_project(s, project_id)
        authorize(req, "get_project", {"target.project.id": project_id, "target.project.domain_id": project.domain_id})
        if tag not in (project.tags or []):
            raise exceptions.NotFound(f"Tag {tag} not found on project {project_id}.")
    return router.empty_response()


def add_tag(req: router.Request, project_id: str, tag: str) -> webob.Response:
    validation.validate([tag], _TAGS)
    with core(req).db.writer() as s:
        project = resources.get_project(s, project_id)
        authorize(req, "update_project", {"target.project.domain_id": project.domain_id})
        project.tags = list(dict.fromkeys([*(project.tags or []), tag]))
    return router.empty_response(201)


def delete_tag(req: router.Request, project_id: str, tag: str) -> webob.Response:
    with core(req).db.writer() as s:
        project = resources.get_project(s, project_id)
        authorize(req, "update_project", {"target.project.domain_id": project.domain_id})
        if tag not in (project.tags or []):
            raise exceptions.NotFound(f"Tag {tag} not found on project {project_id}.")
        project.tags = [t for t in project.tags or [] if t != tag]
    return router.empty_response()


def delete_all_tags(req: router.Request, project_id: str) -> webob.Response:
    with core(req).db.writer() as s:
        project = resources.get_project(s, project_id)
        authorize(req, "update_project", {"target.project.domain_id": project.domain_id})
        project.tags = []
    return router.empty_response()
