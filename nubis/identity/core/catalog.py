"""Regions, services and endpoints, and the catalog in token responses."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity.db.models import Endpoint, Region, Service

INTERFACES = ("public", "internal", "admin")


def region_to_dict(r: Region) -> dict[str, Any]:
    return {"id": r.id, "description": r.description or "", "parent_region_id": r.parent_region_id,
            "links": {"self": f"/v3/regions/{r.id}"}}


def service_to_dict(s: Service) -> dict[str, Any]:
    return {"id": s.id, "type": s.type, "name": s.name, "description": s.description or "", "enabled": s.enabled,
            "links": {"self": f"/v3/services/{s.id}"}}


def endpoint_to_dict(e: Endpoint) -> dict[str, Any]:
    return {"id": e.id, "service_id": e.service_id, "interface": e.interface, "url": e.url,
            "region_id": e.region_id, "region": e.region_id, "enabled": e.enabled,
            "links": {"self": f"/v3/endpoints/{e.id}"}}


def get(session: orm.Session, model: type[Any], obj_id: str, kind: str) -> Any:
    obj = session.get(model, obj_id)
    if obj is None:
        raise exceptions.NotFound(f"Could not find {kind}: {obj_id}.")
    return obj


def ensure_region(session: orm.Session, region_id: str) -> None:
    """Create region ``region_id`` unless it exists: an endpoint given the legacy ``region`` field gets its
    region made on the fly, as Keystone does for v2-style clients (``region_id`` must name an existing one)."""
    if session.get(Region, region_id) is None:
        session.add(Region(id=region_id, description="", parent_region_id=None))
        session.flush()


def create_region(session: orm.Session, region_id: str | None, description: str = "",
                  parent_region_id: str | None = None) -> Region:
    region_id = region_id or types.new_hex_id()
    if session.get(Region, region_id) is not None:
        raise exceptions.Conflict(f"Conflict occurred attempting to store region - Duplicate ID, {region_id}.")
    if parent_region_id:
        get(session, Region, parent_region_id, "region")
    region = Region(id=region_id, description=description, parent_region_id=parent_region_id)
    session.add(region)
    session.flush()
    return region


def check_endpoint(session: orm.Session, interface: str, region_id: str | None, service_id: str) -> None:
    if interface not in INTERFACES:
        raise exceptions.BadRequest(f"Invalid input for field/attribute interface. Value: {interface!r}. "
                                    f"It must be one of {', '.join(INTERFACES)}.")
    get(session, Service, service_id, "service")
    if region_id:
        get(session, Region, region_id, "region")


# Keystone's substitutions in endpoint URLs (Cinder's is http://host:8776/v3/%(project_id)s).
_PROJECT_MARKERS = ("%(project_id)s", "%(tenant_id)s", "$(project_id)s", "$(tenant_id)s")


def _url_for(url: str, project_id: str | None) -> str | None:
    """``url`` with the project filled in; None when it needs a project and the token has none (Keystone then
    leaves the endpoint out)."""
    if not any(marker in url for marker in _PROJECT_MARKERS):
        return url
    if project_id is None:
        return None
    for marker in _PROJECT_MARKERS:
        url = url.replace(marker, project_id)
    return url


def build(session: orm.Session, project_id: str | None = None) -> list[dict[str, Any]]:
    """The catalog: enabled services with their enabled endpoints, URLs completed for ``project_id``."""
    services = list(session.scalars(sa.select(Service).where(Service.enabled.is_(True))))
    endpoints = list(session.scalars(sa.select(Endpoint).where(Endpoint.enabled.is_(True))))
    by_service: dict[str, list[Endpoint]] = {}
    for e in endpoints:
        by_service.setdefault(e.service_id, []).append(e)
    catalog = []
    for s in services:
        catalog.append({
            "id": s.id, "type": s.type, "name": s.name,
            "endpoints": [{"id": e.id, "interface": e.interface, "region": e.region_id, "region_id": e.region_id,
                           "url": url} for e in by_service.get(s.id, [])
                          if (url := _url_for(e.url, project_id)) is not None],
        })
    return catalog
