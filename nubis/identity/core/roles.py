"""Roles, implied roles, and role assignments (direct, group, inherited, effective)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity.core import resources, users
from nubis.identity.db.models import Assignment, ImpliedRole, Project, Role, User, UserGroupMembership

GLOBAL = "<<null>>"
SYSTEM = "system"


def role_to_dict(role: Role) -> dict[str, Any]:
    return {**dict(role.extra or {}), "id": role.id, "name": role.name,
            "domain_id": None if role.domain_id == GLOBAL else role.domain_id,
            "description": role.description or "", "options": {}, "links": {"self": f"/v3/roles/{role.id}"}}


def get_role(session: orm.Session, role_id: str) -> Role:
    role = session.get(Role, role_id)
    if role is None:
        raise exceptions.NotFound(f"Could not find role: {role_id}.")
    return role


def find_role(session: orm.Session, name: str, domain_id: str | None = None) -> Role | None:
    return session.scalars(sa.select(Role).where(Role.name == name, Role.domain_id == (domain_id or GLOBAL))).first()


def create_role(session: orm.Session, name: str, domain_id: str | None = None, description: str = "",
                role_id: str | None = None, extra: Mapping[str, Any] | None = None) -> Role:
    """A new (global or domain-specific) role; ``extra``: the client's attributes beyond Keystone's own.

    Raises Conflict when a role of that name exists in the same domain (or globally)."""
    if find_role(session, name, domain_id) is not None:
        raise exceptions.Conflict(f"Conflict occurred attempting to store role - Duplicate entry found with name {name}.")
    role = Role(id=role_id or types.new_hex_id(), name=name, domain_id=domain_id or GLOBAL, description=description,
                extra=dict(extra or {}))
    session.add(role)
    session.flush()
    return role


def list_roles(session: orm.Session, name: str | None = None, domain_id: str | None = None) -> list[Role]:
    q = sa.select(Role).where(Role.domain_id == (domain_id or GLOBAL))
    if name is not None:
        q = q.where(Role.name == name)
    return list(session.scalars(q.order_by(Role.name)))


def implied_map(session: orm.Session) -> dict[str, set[str]]:
    result: dict[str, set[str]] = {}
    for rule in session.scalars(sa.select(ImpliedRole)):
        result.setdefault(rule.prior_role_id, set()).add(rule.implied_role_id)
    return result


def expand_implied(role_ids: Iterable[str], rules: dict[str, set[str]]) -> dict[str, str | None]:
    """Every role reached from ``role_ids`` through implications -> the prior role (None if direct)."""
    reached: dict[str, str | None] = {r: None for r in role_ids}
    frontier = list(reached)
    while frontier:
        prior = frontier.pop()
        for implied in rules.get(prior, ()):
            if implied not in reached:
                reached[implied] = prior
                frontier.append(implied)
    return reached


def add_implied(session: orm.Session, prior_id: str, implied_id: str) -> None:
    get_role(session, prior_id)
    get_role(session, implied_id)
    if prior_id in expand_implied([implied_id], implied_map(session)):
        raise exceptions.Forbidden(f"Implying role {implied_id} from {prior_id} would create a loop.")
    if session.get(ImpliedRole, (prior_id, implied_id)) is None:
        session.add(ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))


# -- assignments -------------------------------------------------------------------

def assignment_type(actor: str, target: str) -> str:
    return f"{actor.capitalize()}{target.capitalize()}"  # UserProject, GroupDomain, UserSystem, ...


def grant(session: orm.Session, actor: str, actor_id: str, target: str, target_id: str, role_id: str,
          inherited: bool = False) -> None:
    key = (assignment_type(actor, target), actor_id, target_id, role_id, inherited)
    if session.get(Assignment, key) is None:
        session.add(Assignment(type=key[0], actor_id=actor_id, target_id=target_id, role_id=role_id,
                               inherited=inherited))


def revoke(session: orm.Session, actor: str, actor_id: str, target: str, target_id: str, role_id: str,
           inherited: bool = False) -> None:
    row = session.get(Assignment, (assignment_type(actor, target), actor_id, target_id, role_id, inherited))
    if row is None:
        raise exceptions.NotFound(f"Could not find role assignment with role: {role_id}, "
                                  f"{actor}: {actor_id}, {target}: {target_id}.")
    session.delete(row)


def has_grant(session: orm.Session, actor: str, actor_id: str, target: str, target_id: str, role_id: str,
              inherited: bool = False) -> bool:
    return session.get(Assignment, (assignment_type(actor, target), actor_id, target_id, role_id, inherited)) is not None


def direct_role_ids(session: orm.Session, actor: str, actor_id: str, target: str, target_id: str,
                    inherited: bool = False) -> list[str]:
    return list(session.scalars(sa.select(Assignment.role_id).where(
        Assignment.type == assignment_type(actor, target), Assignment.actor_id == actor_id,
        Assignment.target_id == target_id, Assignment.inherited.is_(inherited))))


def effective_role_ids(session: orm.Session, user_id: str | None, scope: str, target_id: str | None) -> set[str]:
    """Roles the user holds on a project/domain/system: direct, via groups, inherited, implied."""
    actors = [user_id, *users.group_ids_of(session, user_id)]
    clauses = []
    if scope == "project":
        project = resources.get_project(session, target_id or "")
        ancestors = [p.id for p in resources.parents(session, project)]
        clauses.append(sa.and_(Assignment.type.in_(["UserProject", "GroupProject"]),
                               Assignment.target_id == project.id, Assignment.inherited.is_(False)))
        clauses.append(sa.and_(Assignment.type.in_(["UserProject", "GroupProject"]),
                               Assignment.target_id.in_(ancestors), Assignment.inherited.is_(True)))
        clauses.append(sa.and_(Assignment.type.in_(["UserDomain", "GroupDomain"]),
                               Assignment.target_id == project.domain_id, Assignment.inherited.is_(True)))
    elif scope == "domain":
        clauses.append(sa.and_(Assignment.type.in_(["UserDomain", "GroupDomain"]),
                               Assignment.target_id == target_id, Assignment.inherited.is_(False)))
    elif scope == "system":
        clauses.append(sa.and_(Assignment.type.in_(["UserSystem", "GroupSystem"]), Assignment.target_id == SYSTEM))
    else:
        return set()
    direct = set(session.scalars(sa.select(Assignment.role_id).where(Assignment.actor_id.in_(actors), sa.or_(*clauses))))
    if not direct:
        return set()
    return set(expand_implied(direct, implied_map(session))) - _domain_specific(session)


def _domain_specific(session: orm.Session) -> set[str]:
    """Ids of domain-specific roles: Keystone never puts them in a token or an effective assignment, only the
    global roles they imply."""
    return set(session.scalars(sa.select(Role.id).where(Role.domain_id != GLOBAL)))


def is_privileged(session: orm.Session, user_or_group_id: str) -> bool:
    """Whether a user (directly or through its groups) or a group holds ``admin`` anywhere or any system role.

    A domain manager may not change such an identity: resetting a cloud admin's
    password, or joining a group that carries ``admin``, would make it one.
    """
    actors = [user_or_group_id, *users.group_ids_of(session, user_or_group_id)]
    rows = session.execute(sa.select(Assignment.type, Assignment.role_id).where(Assignment.actor_id.in_(actors))).all()
    if any(kind.endswith("System") for kind, _ in rows):
        return True
    admin = find_role(session, "admin")
    return admin is not None and admin.id in expand_implied({r for _, r in rows}, implied_map(session))


def delete_assignments_for(session: orm.Session, actor_or_target_id: str) -> None:
    session.execute(sa.delete(Assignment).where(sa.or_(Assignment.actor_id == actor_or_target_id,
                                                       Assignment.target_id == actor_or_target_id)))


# -- the /v3/role_assignments listing ---------------------------------------------

@dataclasses.dataclass
class Row:
    role_id: str
    user_id: str | None
    group_id: str | None
    scope: str  # project, domain, system
    target_id: str
    inherited: bool
    via_group: str | None = None
    prior_role: str | None = None


def list_assignments(session: orm.Session, f: dict[str, Any]) -> list[dict[str, Any]]:
    """The role_assignments listing; ``f`` holds the reference's query filters."""
    effective = f.get("effective", False)
    q = sa.select(Assignment)
    rows: list[Row] = []
    for a in session.scalars(q):
        actor = "user" if a.type.startswith("User") else "group"
        scope = a.type[len("User"):].lower() if actor == "user" else a.type[len("Group"):].lower()
        rows.append(Row(a.role_id, a.actor_id if actor == "user" else None, a.actor_id if actor == "group" else None,
                        scope, a.target_id, a.inherited))
    if effective:
        rows = _expand_effective(session, rows)
    out = []
    for row in rows:
        if f.get("user.id") and row.user_id != f["user.id"]:
            continue
        if f.get("group.id") and row.group_id != f["group.id"]:
            continue
        if f.get("role.id") and row.role_id != f["role.id"]:
            continue
        if f.get("scope.project.id") and not (row.scope == "project" and row.target_id == f["scope.project.id"]):
            continue
        if f.get("scope.domain.id") and not (row.scope == "domain" and row.target_id == f["scope.domain.id"]):
            continue
        if f.get("scope.system") and row.scope != "system":
            continue
        if f.get("scope.OS-INHERIT:inherited_to") and not row.inherited:
            continue
        if f.get("within_domain") and not _within(session, row, f["within_domain"]):
            continue
        out.append(_render(session, row, f.get("include_names", False)))
    return out


def _within(session: orm.Session, row: Row, domain_id: str) -> bool:
    if row.scope == "domain":
        return row.target_id == domain_id
    if row.scope == "project":
        project = session.get(Project, row.target_id)
        return project is not None and project.domain_id == domain_id
    return False


def _expand_effective(session: orm.Session, rows: list[Row]) -> list[Row]:
    expanded: list[Row] = []
    for row in rows:
        members = [row]
        if row.group_id:
            members = [dataclasses.replace(row, user_id=uid, group_id=None, via_group=row.group_id)
                       for uid in session.scalars(sa.select(UserGroupMembership.user_id)
                                                  .where(UserGroupMembership.group_id == row.group_id))]
        for m in members:
            if not m.inherited:
                expanded.append(m)
                continue
            if m.scope == "domain":
                projects: Iterable[str] = session.scalars(sa.select(Project.id).where(Project.domain_id == m.target_id,
                                                                      Project.is_domain.is_(False)))
            else:
                projects = (p.id for p in resources.subtree(session, m.target_id))
            expanded.extend(dataclasses.replace(m, scope="project", target_id=pid, inherited=False) for pid in projects)
    rules = implied_map(session)
    with_implied: list[Row] = []
    for row in expanded:
        with_implied.append(row)
        for role_id, prior in expand_implied([row.role_id], rules).items():
            if prior is not None:
                with_implied.append(dataclasses.replace(row, role_id=role_id, prior_role=prior))
    hidden = _domain_specific(session)
    return [row for row in with_implied if row.role_id not in hidden]


def _render(session: orm.Session, row: Row, names: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": {"id": row.role_id}}
    actor_key, actor_id = ("user", row.user_id) if row.user_id else ("group", row.group_id)
    entry[actor_key] = {"id": actor_id}
    if row.scope == "system":
        entry["scope"] = {"system": {"all": True}}
    else:
        entry["scope"] = {row.scope: {"id": row.target_id}}
    if row.inherited:
        entry["scope"]["OS-INHERIT:inherited_to"] = "projects"
    if names:
        role = session.get(Role, row.role_id)
        if role is not None:
            entry["role"]["name"] = role.name
            if role.domain_id != GLOBAL:
                entry["role"]["domain"] = {"id": role.domain_id}
        _name_actor(session, entry, actor_key, actor_id)
        if row.scope != "system":
            target = session.get(Project, row.target_id)
            if target is not None:
                entry["scope"][row.scope]["name"] = target.name
                if row.scope == "project":
                    entry["scope"]["project"]["domain"] = _domain_ref(session, target.domain_id)
    links = {"assignment": _assignment_link(row, actor_key, actor_id)}
    if row.via_group:
        links["membership"] = f"/v3/groups/{row.via_group}/users/{row.user_id}"
    if row.prior_role:
        links["prior_role"] = f"/v3/roles/{row.prior_role}"
    entry["links"] = links
    return entry


def _name_actor(session: orm.Session, entry: dict[str, Any], key: str, actor_id: str | None) -> None:
    actor: User | users.Group | None = (
        session.get(User, actor_id) if key == "user" else session.get(users.Group, actor_id))
    if actor is not None:
        entry[key]["name"] = actor.name
        entry[key]["domain"] = _domain_ref(session, actor.domain_id)


def _domain_ref(session: orm.Session, domain_id: str) -> dict[str, str]:
    d = session.get(Project, domain_id)
    return {"id": domain_id, "name": d.name if d else ""}


def _assignment_link(row: Row, actor_key: str, actor_id: str | None) -> str:
    prefix = "/v3/OS-INHERIT" if row.inherited else "/v3"
    suffix = "/inherited_to_projects" if row.inherited else ""
    if row.scope == "system":
        return f"/v3/system/{actor_key}s/{actor_id}/roles/{row.role_id}"
    return f"{prefix}/{row.scope}s/{row.target_id}/{actor_key}s/{actor_id}/roles/{row.role_id}{suffix}"
