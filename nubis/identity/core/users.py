"""Users, their passwords, groups and group membership."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity import passwords
from nubis.identity.db.models import Group, Password, User, UserGroupMembership


def user_to_dict(user: User, password_expires_at: datetime.datetime | None = None) -> dict[str, Any]:
    return {
        "id": user.id, "name": user.name, "domain_id": user.domain_id, "enabled": user.enabled,
        "default_project_id": user.default_project_id, "description": user.description or "",
        "password_expires_at": _iso(password_expires_at), "options": {}, **dict(user.extra or {}),
        "links": {"self": f"/v3/users/{user.id}"},
    }


def group_to_dict(group: Group) -> dict[str, Any]:
    return {**dict(group.extra or {}), "id": group.id, "name": group.name, "domain_id": group.domain_id,
            "description": group.description or "", "links": {"self": f"/v3/groups/{group.id}"}}


def _iso(value: datetime.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%f") if value else None


def get_user(session: orm.Session, user_id: str) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise exceptions.NotFound(f"Could not find user: {user_id}.")
    return user


def find_user(session: orm.Session, name: str, domain_id: str) -> User | None:
    return session.scalars(sa.select(User).where(User.name == name, User.domain_id == domain_id)).first()


def current_password(session: orm.Session, user_id: str) -> Password | None:
    return session.scalars(sa.select(Password).where(Password.user_id == user_id)
                           .order_by(Password.id.desc()).limit(1)).first()


def check_password_rules(conf: cfg.ConfigOpts, password: str) -> None:
    regex = conf.security_compliance.password_regex
    if regex and not re.match(regex, password):
        detail = conf.security_compliance.password_regex_description or f"it must match {regex}"
        raise exceptions.BadRequest(f"Password validation error: The password does not meet the requirements: {detail}.")


def check_password_age(conf: cfg.ConfigOpts, current: Password) -> None:
    """Refuse a self-service change while ``current``, set by its user, is younger than ``minimum_password_age``.

    A password an administrator set (or reset) may be changed at once, as in Keystone.

    :raises exceptions.BadRequest: Keystone's message, with the days left.
    """
    min_days = conf.security_compliance.minimum_password_age
    if not min_days or not current.self_service:
        return
    age = types.utcnow() - current.created_at
    if age < datetime.timedelta(days=min_days):
        days_left = min_days - age.days
        raise exceptions.BadRequest(
            f"You cannot change your password at this time due to the minimum password age. Once you change "
            f"your password, it must be used for {min_days} day(s) before it can be changed. Please try again "
            f"in {days_left} day(s) or contact your administrator to reset your password.")


def set_password(session: orm.Session, conf: cfg.ConfigOpts, user: User, password: str,
                 self_service: bool = False) -> None:
    """Make ``password`` the user's current one, after the rules (and for a self-service change, the history).

    An administrator's reset is not held to the history, as in Keystone.

    :raises exceptions.BadRequest: it breaks ``password_regex``, or a user's own change repeats one
        of their last ``unique_last_password_count`` passwords.
    """
    check_password_rules(conf, password)
    unique = conf.security_compliance.unique_last_password_count
    if unique > 0 and self_service:
        recent = session.scalars(sa.select(Password.password_hash).where(Password.user_id == user.id)
                                 .order_by(Password.id.desc()).limit(unique))
        if any(passwords.verify_password(password, h) for h in recent):
            raise exceptions.BadRequest(
                f"Password validation error: The new password cannot be identical to a previous password. "
                f"The number of previous passwords that must be unique is: {unique}."
            )
    expires = None
    if conf.security_compliance.password_expires_days:
        expires = types.utcnow() + datetime.timedelta(days=conf.security_compliance.password_expires_days)
    session.add(Password(user_id=user.id, created_at=types.utcnow(), expires_at=expires, self_service=self_service,
                         password_hash=passwords.hash_password(password, conf.identity.password_hash_algorithm,
                                                               conf.identity.password_hash_rounds)))
    user.failed_auth_count = 0
    user.failed_auth_at = None


def create_user(session: orm.Session, conf: cfg.ConfigOpts, name: str, domain_id: str,
                password: str | None = None, enabled: bool = True, default_project_id: str | None = None,
                description: str = "", extra: Mapping[str, Any] | None = None) -> User:
    if find_user(session, name, domain_id) is not None:
        raise exceptions.Conflict(f"Conflict occurred attempting to store user - Duplicate entry found with name {name} at domain ID {domain_id}.")
    user = User(id=types.new_hex_id(), name=name, domain_id=domain_id, enabled=enabled,
                default_project_id=default_project_id, description=description, extra=dict(extra or {}),
                created_at=types.utcnow(), failed_auth_count=0)
    session.add(user)
    session.flush()
    if password is not None:
        set_password(session, conf, user, password)
    return user


def list_users(session: orm.Session, filters: Mapping[str, Any]) -> list[User]:
    q = sa.select(User)
    for key in ("name", "domain_id"):
        if filters.get(key) is not None:
            q = q.where(getattr(User, key) == filters[key])
    if filters.get("enabled") is not None:
        q = q.where(User.enabled.is_(filters["enabled"]))
    return list(session.scalars(q.order_by(User.name)))


def get_group(session: orm.Session, group_id: str) -> Group:
    group = session.get(Group, group_id)
    if group is None:
        raise exceptions.NotFound(f"Could not find group: {group_id}.")
    return group


def create_group(session: orm.Session, name: str, domain_id: str, description: str = "",
                 extra: Mapping[str, Any] | None = None) -> Group:
    """A new group; ``extra`` holds the attributes beyond Keystone's own that the client gave (shown back).

    Raises Conflict when the domain has a group of that name."""
    exists = session.scalars(sa.select(Group.id).where(Group.name == name, Group.domain_id == domain_id)).first()
    if exists:
        raise exceptions.Conflict(f"Conflict occurred attempting to store group - Duplicate entry found with name {name}.")
    group = Group(id=types.new_hex_id(), name=name, domain_id=domain_id, description=description,
                  extra=dict(extra or {}))
    session.add(group)
    session.flush()
    return group


def list_groups(session: orm.Session, filters: Mapping[str, Any]) -> list[Group]:
    q = sa.select(Group)
    for key in ("name", "domain_id"):
        if filters.get(key) is not None:
            q = q.where(getattr(Group, key) == filters[key])
    return list(session.scalars(q.order_by(Group.name)))


def group_ids_of(session: orm.Session, user_id: str | None) -> list[str]:
    return list(session.scalars(sa.select(UserGroupMembership.group_id).where(UserGroupMembership.user_id == user_id)))


def groups_of(session: orm.Session, user_id: str) -> list[Group]:
    ids = group_ids_of(session, user_id)
    return list(session.scalars(sa.select(Group).where(Group.id.in_(ids)))) if ids else []


def users_in(session: orm.Session, group_id: str) -> list[User]:
    return list(session.scalars(sa.select(User).join(UserGroupMembership, UserGroupMembership.user_id == User.id)
                                .where(UserGroupMembership.group_id == group_id).order_by(User.name)))


def add_member(session: orm.Session, group_id: str, user_id: str) -> None:
    if session.get(UserGroupMembership, (user_id, group_id)) is None:
        session.add(UserGroupMembership(user_id=user_id, group_id=group_id))


def remove_member(session: orm.Session, group_id: str, user_id: str) -> None:
    membership = session.get(UserGroupMembership, (user_id, group_id))
    if membership is None:
        raise exceptions.NotFound(f"User {user_id} is not a member of group {group_id}.")
    session.delete(membership)
