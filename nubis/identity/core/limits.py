"""Unified limits (Keystone's flat model): registered defaults per service/region/resource, and
project or domain limits that override them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity.core import catalog, resources
from nubis.identity.db.models import ProjectLimit, Region, RegisteredLimit, Service

MODEL = {"name": "flat", "description": "Limit enforcement and validation does not take project hierarchy into "
         "consideration."}


def registered_to_dict(r: RegisteredLimit) -> dict[str, Any]:
    return {"id": r.id, "service_id": r.service_id, "region_id": r.region_id, "resource_name": r.resource_name,
            "default_limit": r.default_limit, "description": r.description,
            "links": {"self": f"/v3/registered_limits/{r.id}"}}


def limit_to_dict(lim: ProjectLimit) -> dict[str, Any]:
    return {"id": lim.id, "project_id": lim.project_id, "domain_id": lim.domain_id, "service_id": lim.service_id,
            "region_id": lim.region_id, "resource_name": lim.resource_name, "resource_limit": lim.resource_limit,
            "description": lim.description, "links": {"self": f"/v3/limits/{lim.id}"}}


def _same_key(model: Any, service_id: str, region_id: str | None, resource_name: str) -> Any:
    region = model.region_id.is_(None) if region_id is None else model.region_id == region_id
    return sa.and_(model.service_id == service_id, region, model.resource_name == resource_name)


def _check_refs(session: orm.Session, service_id: str, region_id: str | None) -> None:
    catalog.get(session, Service, service_id, "service")
    if region_id is not None:
        catalog.get(session, Region, region_id, "region")


def get(session: orm.Session, model: Any, item_id: str, kind: str) -> Any:
    return catalog.get(session, model, item_id, kind)


def create_registered(session: orm.Session, v: Mapping[str, Any]) -> RegisteredLimit:
    """:raises exceptions.NotFound: unknown service or region. :raises exceptions.Conflict: a duplicate."""
    _check_refs(session, v["service_id"], v.get("region_id"))
    if session.scalar(sa.select(RegisteredLimit.id).where(
            _same_key(RegisteredLimit, v["service_id"], v.get("region_id"), v["resource_name"]))):
        raise exceptions.Conflict(f"Conflict occurred attempting to store registered_limit - Duplicate entry "
                                  f"found with resource_name {v['resource_name']}.")
    r = RegisteredLimit(id=types.new_hex_id(), service_id=v["service_id"], region_id=v.get("region_id"),
                        resource_name=v["resource_name"], default_limit=v["default_limit"],
                        description=v.get("description"))
    session.add(r)
    session.flush()
    return r


def update_registered(session: orm.Session, r: RegisteredLimit, v: Mapping[str, Any]) -> None:
    """:raises exceptions.Forbidden: changing the key of a registered limit that project limits use."""
    key_fields = ("service_id", "region_id", "resource_name")
    if any(k in v and v[k] != getattr(r, k) for k in key_fields):
        if session.scalar(sa.select(ProjectLimit.id).where(
                _same_key(ProjectLimit, r.service_id, r.region_id, r.resource_name))):
            raise exceptions.Forbidden("Cannot change the service, region or resource of a registered limit "
                                       "that limits refer to.")
        new = {k: v.get(k, getattr(r, k)) for k in key_fields}
        _check_refs(session, new["service_id"], new["region_id"])
        clash = session.scalar(sa.select(RegisteredLimit.id).where(
            _same_key(RegisteredLimit, new["service_id"], new["region_id"], new["resource_name"]),
            RegisteredLimit.id != r.id))
        if clash:
            raise exceptions.Conflict("Conflict occurred attempting to store registered_limit - Duplicate entry.")
    for key in (*key_fields, "default_limit", "description"):
        if key in v:
            setattr(r, key, v[key])


def delete_registered(session: orm.Session, r: RegisteredLimit) -> None:
    """:raises exceptions.Forbidden: project limits still refer to it (Keystone's RegisteredLimitError)."""
    if session.scalar(sa.select(ProjectLimit.id).where(
            _same_key(ProjectLimit, r.service_id, r.region_id, r.resource_name))):
        raise exceptions.Forbidden(f"Unable to delete registered limit {r.id}: limits refer to it.")
    session.delete(r)


def create_limit(session: orm.Session, v: Mapping[str, Any]) -> ProjectLimit:
    """:raises exceptions.Forbidden: no registered limit to override. :raises exceptions.Conflict: a duplicate."""
    if bool(v.get("project_id")) == bool(v.get("domain_id")):
        raise exceptions.BadRequest("A limit needs exactly one of project_id or domain_id.")
    if v.get("project_id"):
        resources.get_project(session, v["project_id"])
    else:
        resources.get_domain(session, v["domain_id"])
    _check_refs(session, v["service_id"], v.get("region_id"))
    if not session.scalar(sa.select(RegisteredLimit.id).where(
            _same_key(RegisteredLimit, v["service_id"], v.get("region_id"), v["resource_name"]))):
        raise exceptions.Forbidden(f"The registered limit of {v['resource_name']} for service {v['service_id']} "
                                   "does not exist; register it first.")
    owner = (ProjectLimit.project_id == v["project_id"]) if v.get("project_id") else \
        (ProjectLimit.domain_id == v["domain_id"])
    if session.scalar(sa.select(ProjectLimit.id).where(
            owner, _same_key(ProjectLimit, v["service_id"], v.get("region_id"), v["resource_name"]))):
        raise exceptions.Conflict(f"Conflict occurred attempting to store limit - Duplicate entry found with "
                                  f"resource_name {v['resource_name']}.")
    lim = ProjectLimit(id=types.new_hex_id(), project_id=v.get("project_id"), domain_id=v.get("domain_id"),
                       service_id=v["service_id"], region_id=v.get("region_id"), resource_name=v["resource_name"],
                       resource_limit=v["resource_limit"], description=v.get("description"))
    session.add(lim)
    session.flush()
    return lim


def list_of(session: orm.Session, model: Any, filters: Mapping[str, str | None]) -> list[Any]:
    q = sa.select(model)
    for key, value in filters.items():
        if value is not None:
            q = q.where(getattr(model, key) == value)
    return list(session.scalars(q.order_by(model.id)))
