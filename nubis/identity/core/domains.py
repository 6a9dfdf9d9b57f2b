"""Deleting a domain with everything it owns, as Keystone does."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.identity.db.models import Assignment, Group, Project, Role, User


@dataclasses.dataclass(frozen=True)
class Deleted:
    """What went with a domain, so their tokens can be revoked after the commit."""

    project_ids: list[str]
    user_ids: list[str]


def delete_domain(session: orm.Session, domain: Project) -> Deleted:
    """Delete a disabled domain: its projects, users, groups, domain roles and every grant on or of them.

    :raises exceptions.Forbidden: the domain is still enabled (Keystone's rule: disable it first).
    """
    if domain.enabled:
        raise exceptions.Forbidden("Cannot delete a domain that is enabled, please disable it first.")
    project_ids = list(session.scalars(sa.select(Project.id).where(Project.domain_id == domain.id,
                                                                   Project.is_domain.is_(False))))
    user_ids = list(session.scalars(sa.select(User.id).where(User.domain_id == domain.id)))
    group_ids = list(session.scalars(sa.select(Group.id).where(Group.domain_id == domain.id)))
    role_ids = list(session.scalars(sa.select(Role.id).where(Role.domain_id == domain.id)))
    owned = [domain.id, *project_ids, *user_ids, *group_ids]
    session.execute(sa.delete(Assignment).where(sa.or_(Assignment.actor_id.in_(owned),
                                                       Assignment.target_id.in_(owned),
                                                       Assignment.role_id.in_(role_ids))))
    # Users and groups before their domain (foreign keys); the database cascades to their passwords,
    # memberships and credentials.
    for model, ids in ((User, user_ids), (Group, group_ids), (Role, role_ids), (Project, project_ids)):
        for obj in session.scalars(sa.select(model).where(model.id.in_(ids))):
            session.delete(obj)
    session.flush()
    session.delete(domain)
    return Deleted(project_ids=project_ids, user_ids=user_ids)


