"""OS-EP-FILTER: endpoint groups, and endpoints or endpoint groups associated with projects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
import webob

from nubis.api import router, validation
from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity.api.common import authorize, collection, core, entity_body
from nubis.identity.core import catalog, resources
from nubis.identity.db.models import Endpoint, EndpointGroup, ProjectEndpoint, ProjectEndpointGroup

_FILTERS = {"type": "object", "properties": {
    "interface": {"type": "string", "enum": list(catalog.INTERFACES)}, "service_id": {"type": "string", "maxLength": 64},
    "region_id": {"type": "string", "maxLength": 255}}, "additionalProperties": False}
GROUP_SCHEMA = {"type": "object", "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 255}, "description": {"type": ["string", "null"]},
    "filters": _FILTERS}, "additionalProperties": False}


def _group_dict(g: EndpointGroup) -> dict[str, Any]:
    return {"id": g.id, "name": g.name, "description": g.description or "", "filters": dict(g.filters or {}),
            "links": {"self": f"/v3/OS-EP-FILTER/endpoint_groups/{g.id}"}}


def _group(s: Any, group_id: str) -> EndpointGroup:
    return catalog.get(s, EndpointGroup, group_id, "endpoint group")


def _members(s: Any, g: EndpointGroup) -> list[Endpoint]:
    q = sa.select(Endpoint)
    for key, value in dict(g.filters or {}).items():
        q = q.where(getattr(Endpoint, key) == value)
    return list(s.scalars(q.order_by(Endpoint.id)))


# -- project associations: a link row found by ``find(session)`` (which 404s on a missing end) --

def _link_add(req: router.Request, find: Callable[[Any], Any], make: Callable[[], Any]) -> webob.Response:
    """PUT: store the link unless it is there already (204 either way)."""
    authorize(req, "manage_endpoint_filter")
    with core(req).db.writer() as s:
        if find(s) is None:
            s.add(make())
    return router.empty_response()


def _link_check(req: router.Request, find: Callable[[Any], Any], missing: str) -> None:
    """GET/HEAD: 404 with ``missing`` when the link is absent."""
    authorize(req, "get_endpoint_filter")
    with core(req).db.reader() as s:
        if find(s) is None:
            raise exceptions.NotFound(missing)


def _link_remove(req: router.Request, find: Callable[[Any], Any], missing: str) -> webob.Response:
    """DELETE the link; 404 with ``missing`` when absent."""
    authorize(req, "manage_endpoint_filter")
    with core(req).db.writer() as s:
        link = find(s)
        if link is None:
            raise exceptions.NotFound(missing)
        s.delete(link)
    return router.empty_response()


# -- endpoint groups -----------------------------------------------------------------------

def list_groups(req: router.Request) -> webob.Response:
    authorize(req, "get_endpoint_filter")
    with core(req).db.reader() as s:
        q = sa.select(EndpointGroup)
        if req.query_one("name"):
            q = q.where(EndpointGroup.name == req.query_one("name"))
        return router.json_response(collection(req, "endpoint_groups",
                                               [_group_dict(g) for g in s.scalars(q.order_by(EndpointGroup.id))]))


def create_group(req: router.Request) -> webob.Response:
    authorize(req, "manage_endpoint_filter")
    v = entity_body(req, "endpoint_group", set(), {"name", "filters"})
    validation.validate(v, GROUP_SCHEMA)
    if not v["filters"]:
        raise exceptions.BadRequest("Invalid input for field 'filters': name at least one of interface, "
                                    "service_id or region_id.")
    with core(req).db.writer() as s:
        g = EndpointGroup(id=types.new_hex_id(), name=v["name"], description=v.get("description") or "",
                          filters=v["filters"])
        s.add(g)
        s.flush()
        return router.json_response({"endpoint_group": _group_dict(g)}, status=201)


def get_group(req: router.Request, endpoint_group_id: str) -> webob.Response:
    authorize(req, "get_endpoint_filter")
    with core(req).db.reader() as s:
        return router.json_response({"endpoint_group": _group_dict(_group(s, endpoint_group_id))})


def update_group(req: router.Request, endpoint_group_id: str) -> webob.Response:
    authorize(req, "manage_endpoint_filter")
    v = entity_body(req, "endpoint_group", set())
    validation.validate(v, GROUP_SCHEMA)
    with core(req).db.writer() as s:
        g = _group(s, endpoint_group_id)
        for key in ("name", "description", "filters"):
            if key in v:
                setattr(g, key, v[key])
        return router.json_response({"endpoint_group": _group_dict(g)})


def delete_group(req: router.Request, endpoint_group_id: str) -> webob.Response:
    authorize(req, "manage_endpoint_filter")
    with core(req).db.writer() as s:
        s.delete(_group(s, endpoint_group_id))
    return router.empty_response()


def group_endpoints(req: router.Request, endpoint_group_id: str) -> webob.Response:
    authorize(req, "get_endpoint_filter")
    with core(req).db.reader() as s:
        found = _members(s, _group(s, endpoint_group_id))
        return router.json_response(collection(req, "endpoints", [catalog.endpoint_to_dict(e) for e in found]))


def group_projects(req: router.Request, endpoint_group_id: str) -> webob.Response:
    authorize(req, "get_endpoint_filter")
    with core(req).db.reader() as s:
        _group(s, endpoint_group_id)
        ids = s.scalars(sa.select(ProjectEndpointGroup.project_id).where(
            ProjectEndpointGroup.endpoint_group_id == endpoint_group_id))
        found = [resources.project_to_dict(p) for p in (s.get(resources.Project, i) for i in ids) if p is not None]
        return router.json_response(collection(req, "projects", found))


def _group_link(s: Any, endpoint_group_id: str, project_id: str) -> ProjectEndpointGroup | None:
    _group(s, endpoint_group_id)
    resources.get_project(s, project_id)
    return s.get(ProjectEndpointGroup, (endpoint_group_id, project_id))


def add_group_project(req: router.Request, endpoint_group_id: str, project_id: str) -> webob.Response:
    return _link_add(req, lambda s: _group_link(s, endpoint_group_id, project_id),
                     lambda: ProjectEndpointGroup(endpoint_group_id=endpoint_group_id, project_id=project_id))


def _group_unlinked(endpoint_group_id: str, project_id: str) -> str:
    return f"Project {project_id} is not associated with endpoint group {endpoint_group_id}."


def check_group_project(req: router.Request, endpoint_group_id: str, project_id: str) -> webob.Response:
    _link_check(req, lambda s: _group_link(s, endpoint_group_id, project_id),
                _group_unlinked(endpoint_group_id, project_id))
    return router.json_response({"project_endpoint_group": {
        "endpoint_group_id": endpoint_group_id, "project_id": project_id}})


def remove_group_project(req: router.Request, endpoint_group_id: str, project_id: str) -> webob.Response:
    return _link_remove(req, lambda s: _group_link(s, endpoint_group_id, project_id),
                        _group_unlinked(endpoint_group_id, project_id))


def project_groups(req: router.Request, project_id: str) -> webob.Response:
    authorize(req, "get_endpoint_filter")
    with core(req).db.reader() as s:
        resources.get_project(s, project_id)
        ids = list(s.scalars(sa.select(ProjectEndpointGroup.endpoint_group_id).where(
            ProjectEndpointGroup.project_id == project_id)))
        groups = s.scalars(sa.select(EndpointGroup).where(EndpointGroup.id.in_(ids)).order_by(EndpointGroup.id))
        return router.json_response(collection(req, "endpoint_groups", [_group_dict(g) for g in groups]))


# -- endpoints of a project ----------------------------------------------------------------

def _endpoint_link(s: Any, project_id: str, endpoint_id: str) -> ProjectEndpoint | None:
    resources.get_project(s, project_id)
    catalog.get(s, Endpoint, endpoint_id, "endpoint")
    return s.get(ProjectEndpoint, (endpoint_id, project_id))


def add_project_endpoint(req: router.Request, project_id: str, endpoint_id: str) -> webob.Response:
    return _link_add(req, lambda s: _endpoint_link(s, project_id, endpoint_id),
                     lambda: ProjectEndpoint(endpoint_id=endpoint_id, project_id=project_id))


def check_project_endpoint(req: router.Request, project_id: str, endpoint_id: str) -> webob.Response:
    _link_check(req, lambda s: _endpoint_link(s, project_id, endpoint_id),
                f"Endpoint {endpoint_id} is not associated with project {project_id}.")
    return router.empty_response()


def remove_project_endpoint(req: router.Request, project_id: str, endpoint_id: str) -> webob.Response:
    return _link_remove(req, lambda s: _endpoint_link(s, project_id, endpoint_id),
                        f"Endpoint {endpoint_id} is not associated with project {project_id}.")


def project_endpoints(req: router.Request, project_id: str) -> webob.Response:
    authorize(req, "get_endpoint_filter")
    with core(req).db.reader() as s:
        resources.get_project(s, project_id)
        ids = list(s.scalars(sa.select(ProjectEndpoint.endpoint_id).where(ProjectEndpoint.project_id == project_id)))
        found = s.scalars(sa.select(Endpoint).where(Endpoint.id.in_(ids)).order_by(Endpoint.id))
        return router.json_response(collection(req, "endpoints", [catalog.endpoint_to_dict(e) for e in found]))


def endpoint_projects(req: router.Request, endpoint_id: str) -> webob.Response:
    authorize(req, "get_endpoint_filter")
    with core(req).db.reader() as s:
        catalog.get(s, Endpoint, endpoint_id, "endpoint")
        ids = list(s.scalars(sa.select(ProjectEndpoint.project_id).where(ProjectEndpoint.endpoint_id == endpoint_id)))
        found = s.scalars(sa.select(resources.Project).where(resources.Project.id.in_(ids)))
        return router.json_response(collection(req, "projects", [resources.project_to_dict(p) for p in found]))
