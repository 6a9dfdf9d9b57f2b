"""Domains and projects (one table; a domain is a project with ``is_domain``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity.core import unique
from nubis.identity.db.models import Project

ROOT_DOMAIN = "<<keystone.domain.root>>"
DEFAULT_DOMAIN_ID = "default"


def domain_to_dict(d: Project) -> dict[str, Any]:
    return {
        "id": d.id, "name": d.name, "description": d.description or "", "enabled": d.enabled,
        "tags": list(d.tags or []), "options": {}, **dict(d.extra or {}),
        "links": {"self": f"/v3/domains/{d.id}"},
    }


def project_to_dict(p: Project) -> dict[str, Any]:
    return {
        "id": p.id, "name": p.name, "domain_id": p.domain_id if not p.is_domain else None,
        "parent_id": p.parent_id, "is_domain": p.is_domain, "enabled": p.enabled,
        "description": p.description or "", "tags": list(p.tags or []), "options": {}, **dict(p.extra or {}),
        "links": {"self": f"/v3/projects/{p.id}"},
    }


# -- domains -----------------------------------------------------------------------

def get_domain(session: orm.Session, domain_id: str) -> Project:
    d = session.get(Project, domain_id)
    if d is None or not d.is_domain:
        raise exceptions.NotFound(f"Could not find domain: {domain_id}.")
    return d


def is_domain(session: orm.Session, project_id: str) -> bool:
    """Whether ``project_id`` is a domain (a project with ``is_domain``); False when it does not exist."""
    p = session.get(Project, project_id)
    return p is not None and bool(p.is_domain)


def find_domain_by_name(session: orm.Session, name: str) -> Project:
    d = session.scalars(sa.select(Project).where(Project.is_domain.is_(True), Project.name == name)).first()
    if d is None:
        raise exceptions.NotFound(f"Could not find domain: {name}.")
    return d


def create_domain(session: orm.Session, name: str, description: str = "", enabled: bool = True,
                  domain_id: str | None = None, tags: list[str] | None = None,
                  extra: Mapping[str, Any] | None = None) -> Project:
    if session.scalars(sa.select(Project.id).where(Project.is_domain.is_(True), Project.name == name)).first():
        raise unique.duplicate("domain", name)
    d = Project(id=domain_id or types.new_hex_id(), name=name, domain_id=ROOT_DOMAIN, parent_id=None,
                is_domain=True, enabled=enabled, description=description, tags=tags or [], extra=dict(extra or {}))
    session.add(d)
    unique.flush(session, "domain", name)
    return d


def list_domains(session: orm.Session, name: str | None = None, enabled: bool | None = None) -> list[Project]:
    q = sa.select(Project).where(Project.is_domain.is_(True))
    if name is not None:
        q = q.where(Project.name == name)
    if enabled is not None:
        q = q.where(Project.enabled.is_(enabled))
    return list(session.scalars(q.order_by(Project.name)))


# -- projects ----------------------------------------------------------------------

def get_project(session: orm.Session, project_id: str) -> Project:
    p = session.get(Project, project_id)
    if p is None or p.is_domain:
        raise exceptions.NotFound(f"Could not find project: {project_id}.")
    return p


def find_project(session: orm.Session, name: str, domain_id: str) -> Project:
    p = session.scalars(sa.select(Project).where(Project.is_domain.is_(False), Project.name == name,
                                                 Project.domain_id == domain_id)).first()
    if p is None:
        raise exceptions.NotFound(f"Could not find project: {name}.")
    return p


def create_project(session: orm.Session, name: str, domain_id: str, parent_id: str | None = None,
                   description: str = "", enabled: bool = True, tags: list[str] | None = None,
                   extra: Mapping[str, Any] | None = None, project_id: str | None = None) -> Project:
    get_domain(session, domain_id)
    if parent_id and parent_id != domain_id:
        parent = get_project(session, parent_id)
        if parent.domain_id != domain_id:
            raise exceptions.BadRequest("The parent project must be in the same domain as the new project.")
    if session.scalars(sa.select(Project.id).where(Project.is_domain.is_(False), Project.name == name,
                                                   Project.domain_id == domain_id)).first():
        raise unique.duplicate("project", name)
    p = Project(id=project_id or types.new_hex_id(), name=name, domain_id=domain_id,
                parent_id=parent_id or domain_id, is_domain=False, enabled=enabled, description=description,
                tags=tags or [], extra=dict(extra or {}))
    session.add(p)
    unique.flush(session, "project", name)
    return p


def list_projects(session: orm.Session, filters: Mapping[str, Any]) -> list[Project]:
    q = sa.select(Project).where(Project.is_domain.is_(bool(filters.get("is_domain", False))))
    for key in ("name", "domain_id", "parent_id"):
        if filters.get(key) is not None:
            q = q.where(getattr(Project, key) == filters[key])
    if filters.get("enabled") is not None:
        q = q.where(Project.enabled.is_(filters["enabled"]))
    projects = list(session.scalars(q.order_by(Project.name)))
    if filters.get("tags"):
        wanted = set(filters["tags"])
        projects = [p for p in projects if wanted <= set(p.tags or [])]
    return projects


def children(session: orm.Session, project_id: str) -> list[Project]:
    return list(session.scalars(sa.select(Project).where(Project.parent_id == project_id,
                                                         Project.is_domain.is_(False))))


def subtree(session: orm.Session, project_id: str) -> list[Project]:
    out, frontier = [], [project_id]
    while frontier:
        level = list(session.scalars(sa.select(Project).where(Project.parent_id.in_(frontier),
                                                              Project.is_domain.is_(False))))
        out.extend(level)
        frontier = [p.id for p in level]
    return out


def parents(session: orm.Session, project: Project) -> list[Project]:
    """Ancestor projects, nearest first (the domain is not included)."""
    out = []
    current = project
    while current.parent_id and current.parent_id != current.domain_id:
        parent = session.get(Project, current.parent_id)
        if parent is None:
            break
        out.append(parent)
        current = parent
    return out


def delete_project(session: orm.Session, project: Project) -> None:
    if children(session, project.id):
        raise exceptions.Forbidden(f"Cannot delete project {project.id}: it has child projects; delete them first.")
    session.delete(project)
