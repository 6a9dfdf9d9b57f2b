"""Application credentials and their access rules, as Keystone defines them.

An application credential delegates some of a user's roles on one project to
whoever holds its secret. Its tokens:

- carry only the credential's roles (and only while the user still holds them);
- expire no later than the credential;
- cannot be rescoped or exchanged for another token (``token`` method: 403);
- cannot create or delete application credentials unless the credential is
  ``unrestricted``;
- when the credential has access rules, may call only the (service type,
  method, path) triples listed; every API enforces this (keystonemiddleware's
  ``auth_token`` for the others, ``allows`` here for identity itself).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import types
from nubis.identity.db.models import AccessRule, ApplicationCredential, Role

# Keystone's wording for refusals made to application credential tokens.
_FORBIDDEN = "You are not authorized to perform the requested action: {}."
RESCOPE_FORBIDDEN = _FORBIDDEN.format(
    "Using a token issued with an application credential to obtain another token is not allowed")
MANAGE_FORBIDDEN = _FORBIDDEN.format(
    "Using method 'application_credential' is not allowed for managing additional application credentials")


def check_may_manage(token_app_cred: Mapping[str, Any] | None) -> None:
    """Refuse (403) a token from a restricted application credential managing credentials."""
    if token_app_cred is not None and token_app_cred.get("restricted", True):
        raise exceptions.Forbidden(MANAGE_FORBIDDEN)


def check_roles_in_token(requested_role_ids: Iterable[str], token_role_ids: set[str]) -> None:
    """A new credential may delegate only roles the caller's own token carries (400 otherwise)."""
    if not set(requested_role_ids) <= token_role_ids:
        raise exceptions.BadRequest("Invalid application credential: Cannot create an application credential "
                                    "with unassigned role.")


# -- access rules ---------------------------------------------------------------------------

def rule_to_dict(rule: AccessRule) -> dict[str, str]:
    return {"id": rule.id, "service": rule.service, "method": rule.method, "path": rule.path}


def resolve_rules(session: orm.Session, user_id: str, requested: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Each requested rule as stored: an existing one by id, or found or made by (service, method, path)."""
    out: list[dict[str, str]] = []
    for ref in requested:
        if ref.get("id"):
            rule = session.get(AccessRule, ref["id"])
            if rule is None or rule.user_id != user_id:
                raise exceptions.NotFound(f"Could not find access rule: {ref['id']}.")
        else:
            rule = session.scalars(sa.select(AccessRule).where(
                AccessRule.user_id == user_id, AccessRule.service == ref["service"],
                AccessRule.method == ref["method"], AccessRule.path == ref["path"])).first()
            if rule is None:
                rule = AccessRule(id=types.new_hex_id(), user_id=user_id, service=ref["service"],
                                  method=ref["method"], path=ref["path"])
                session.add(rule)
                session.flush()
        out.append(rule_to_dict(rule))
    return out


def list_rules(session: orm.Session, user_id: str) -> list[AccessRule]:
    return list(session.scalars(sa.select(AccessRule).where(AccessRule.user_id == user_id).order_by(AccessRule.id)))


def get_rule(session: orm.Session, user_id: str, rule_id: str) -> AccessRule:
    rule = session.get(AccessRule, rule_id)
    if rule is None or rule.user_id != user_id:
        raise exceptions.NotFound(f"Could not find access rule: {rule_id}.")
    return rule


def delete_rule(session: orm.Session, user_id: str, rule_id: str) -> None:
    """Delete a rule no credential uses (403 while one does, as Keystone answers)."""
    rule = get_rule(session, user_id, rule_id)
    for cred in session.scalars(sa.select(ApplicationCredential).where(ApplicationCredential.user_id == user_id)):
        if any(r.get("id") == rule_id for r in cred.access_rules or []):
            raise exceptions.Forbidden(f"Access rule {rule_id} is in use by application credential {cred.id}.")
    session.delete(rule)


def _pattern(path: str) -> re.Pattern[str]:
    """Keystone's path syntax: ``*`` or ``{name}`` is one path segment, ``**`` any number of them."""
    regex = ""
    for match in re.finditer(r"(?P<tag>\{[^}]*\})|(?P<any>\*\*)|(?P<one>\*)|(?P<lit>[^{}*]+)", path):
        if match["tag"] or match["one"]:
            regex += r"[^/]+"
        elif match["any"]:
            regex += ".*"
        else:
            regex += re.escape(match["lit"])
    return re.compile(f"^{regex}$")


def allows(rules: Iterable[Mapping[str, str]], service: str, method: str, path: str) -> bool:
    """Whether any access rule lets a token call ``method path`` on ``service``."""
    return any(r["service"] == service and r["method"] == method and _pattern(r["path"]).match(path)
               for r in rules)


# -- what a credential's token may carry --------------------------------------------------------

def token_roles(session: orm.Session, cred: ApplicationCredential, user_role_ids: set[str]) -> set[str]:
    """The credential's roles the user still holds: never more than the credential was given."""
    return user_role_ids & set(cred.role_ids or [])


def expiry_cap(cred: ApplicationCredential) -> float | None:
    """The credential's expiry as a timestamp: no token of it lives longer."""
    if cred.expires_at is None:
        return None
    return cred.expires_at.replace(tzinfo=datetime.UTC).timestamp()


def role_ids_by_name(session: orm.Session, names: Iterable[str]) -> set[str]:
    wanted = list(names)
    return set(session.scalars(sa.select(Role.id).where(Role.name.in_(wanted)))) if wanted else set()
