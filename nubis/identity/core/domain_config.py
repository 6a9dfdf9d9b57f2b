"""Domain-specific configuration (Keystone's ``/v3/domains/{domain_id}/config``).

Only the groups and options Keystone lets a domain override are accepted
(``identity`` and ``ldap``); ``password`` is stored but, being sensitive,
never shown. Nubis stores these documents; its identity backend is SQL for
every domain, so an LDAP configuration is kept for clients, not used.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.identity.db.models import DomainConfigOption

# Keystone's defaults for the options a domain may override, by group.
DEFAULTS: dict[str, dict[str, Any]] = {
    "identity": {"driver": "sql", "list_limit": None},
    "ldap": {
        "url": "ldap://localhost", "user": None, "suffix": "cn=example,cn=com", "query_scope": "one",
        "page_size": 0, "alias_dereferencing": "default", "debug_level": None, "chase_referrals": None,
        "user_tree_dn": None, "user_filter": None, "user_objectclass": "inetOrgPerson", "user_id_attribute": "cn",
        "user_name_attribute": "sn", "user_description_attribute": "description", "user_mail_attribute": "mail",
        "user_pass_attribute": "userPassword", "user_enabled_attribute": "enabled", "user_enabled_invert": False,
        "user_enabled_mask": 0, "user_enabled_default": "True", "user_attribute_ignore": ["default_project_id"],
        "user_default_project_id_attribute": None, "user_enabled_emulation": False,
        "user_enabled_emulation_dn": None, "user_enabled_emulation_use_group_config": False,
        "user_additional_attribute_mapping": [], "group_tree_dn": None, "group_filter": None,
        "group_objectclass": "groupOfNames", "group_id_attribute": "cn", "group_name_attribute": "ou",
        "group_member_attribute": "member", "group_members_are_ids": False, "group_desc_attribute": "description",
        "group_attribute_ignore": [], "group_additional_attribute_mapping": [], "group_ad_nesting": False,
        "tls_cacertfile": None, "tls_cacertdir": None, "use_tls": False, "tls_req_cert": "demand",
        "connection_timeout": -1, "use_pool": True, "pool_size": 10, "pool_retry_max": 3, "pool_retry_delay": 0.1,
        "pool_connection_timeout": -1, "pool_connection_lifetime": 600, "use_auth_pool": True,
        "auth_pool_size": 100, "auth_pool_connection_lifetime": 60,
    },
}
SENSITIVE = {("ldap", "password")}


def _check(group: str, option: str | None = None) -> None:
    """:raises exceptions.Forbidden: not a group/option a domain may set (Keystone's InvalidDomainConfig)."""
    if group not in DEFAULTS:
        raise exceptions.Forbidden(f"Invalid domain specific configuration: group {group} is not supported.")
    if option is not None and option not in DEFAULTS[group] and (group, option) not in SENSITIVE:
        raise exceptions.Forbidden(f"Invalid domain specific configuration: option {option} in group {group} "
                                   "is not supported.")


def default(group: str | None = None, option: str | None = None) -> dict[str, Any]:
    """The default document, one of its groups, or one option (shaped as the API answers)."""
    if group is None:
        return {g: dict(opts) for g, opts in DEFAULTS.items()}
    _check(group, option)
    return {group: dict(DEFAULTS[group])} if option is None else {option: DEFAULTS[group][option]}


def read(session: orm.Session, domain_id: str, group: str | None = None, option: str | None = None) -> dict[str, Any]:
    """The domain's document (sensitive options left out), one group of it, or one option.

    :raises exceptions.NotFound: nothing is set there.
    """
    if group is not None:
        _check(group, option)
    q = sa.select(DomainConfigOption).where(DomainConfigOption.domain_id == domain_id)
    if group is not None:
        q = q.where(DomainConfigOption.group == group)
    if option is not None:
        q = q.where(DomainConfigOption.option == option)
    doc: dict[str, dict[str, Any]] = {}
    for row in session.scalars(q):
        if (row.group, row.option) not in SENSITIVE:
            doc.setdefault(row.group, {})[row.option] = row.value
    if not doc:
        where = "/".join(x for x in (domain_id, group, option) if x)
        raise exceptions.NotFound(f"Could not find domain config: {where}.")
    if option is not None:
        return {option: doc[group][option]}  # type: ignore[index]
    return doc


def _validate(doc: Mapping[str, Any]) -> None:
    if not doc:
        raise exceptions.BadRequest("Invalid input for field 'config': it cannot be empty.")
    for group, options in doc.items():
        if not isinstance(options, dict) or not options:
            raise exceptions.BadRequest(f"Invalid input for field 'config': group {group} must hold options.")
        for option in options:
            _check(group, option)


def replace(session: orm.Session, domain_id: str, doc: Mapping[str, Any]) -> bool:
    """Make ``doc`` the whole configuration of the domain; True when it had none before."""
    _validate(doc)
    existed = session.scalar(sa.select(DomainConfigOption.option).where(
        DomainConfigOption.domain_id == domain_id).limit(1)) is not None
    session.execute(sa.delete(DomainConfigOption).where(DomainConfigOption.domain_id == domain_id))
    _store(session, domain_id, doc)
    return not existed


def _store(session: orm.Session, domain_id: str, doc: Mapping[str, Any]) -> None:
    for group, options in doc.items():
        for option, value in options.items():
            row = session.get(DomainConfigOption, (domain_id, group, option))
            if row is None:
                session.add(DomainConfigOption(domain_id=domain_id, group=group, option=option, value=value))
            else:
                row.value = value
    session.flush()


def update(session: orm.Session, domain_id: str, doc: Mapping[str, Any], group: str | None = None,
           option: str | None = None) -> None:
    """Merge ``doc`` into what is set; through a group or option path it may touch only that one.

    :raises exceptions.NotFound: the domain has no configuration there yet.
    :raises exceptions.BadRequest: the body names another group or option than the path.
    """
    _validate(doc)
    if group is not None and set(doc) != {group}:
        raise exceptions.BadRequest(f"Invalid input for field 'config': only group {group} may be updated here.")
    if option is not None and set(doc[group]) != {option}:  # type: ignore[index]
        raise exceptions.BadRequest(f"Invalid input for field 'config': only option {option} may be updated here.")
    read(session, domain_id, group, option)
    _store(session, domain_id, doc)


def delete(session: orm.Session, domain_id: str, group: str | None = None, option: str | None = None) -> None:
    """:raises exceptions.NotFound: nothing is set there."""
    read(session, domain_id, group, option)
    q = sa.delete(DomainConfigOption).where(DomainConfigOption.domain_id == domain_id)
    if group is not None:
        q = q.where(DomainConfigOption.group == group)
    if option is not None:
        q = q.where(DomainConfigOption.option == option)
    session.execute(q)
