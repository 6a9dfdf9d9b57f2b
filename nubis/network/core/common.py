"""Pieces every network resource shares: the caller, standard attributes, body checks."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import sqlalchemy as sa
from oslo_config import cfg
from sqlalchemy import orm

from nubis.common.context import RequestContext
from nubis.common.db import types
from nubis.common.db.engine import Database
from nubis.network.core import errors
from nubis.network.db import models


@dataclasses.dataclass(frozen=True)
class Caller:
    """Who is asking: their context, and whether policy calls them an admin."""

    ctx: RequestContext
    is_admin: bool

    @property
    def project_id(self) -> str:
        return self.ctx.project_id or ""

    def owns(self, project_id: str | None) -> bool:
        return self.is_admin or (bool(project_id) and project_id == self.project_id)


def fmt_time(value: datetime.datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def standard_view(row: models.Standard, tags: Iterable[str] = ()) -> dict[str, Any]:
    """The standard attributes (project, name, description, timestamps, revision, tags)."""
    return {
        "id": row.id, "name": row.name, "description": row.description,
        "project_id": row.project_id, "tenant_id": row.project_id,
        "created_at": fmt_time(row.created_at), "updated_at": fmt_time(row.updated_at),
        "revision_number": row.revision_number, "tags": sorted(tags),
    }


def touch(row: models.Standard) -> None:
    """Record a change: the revision number is what ``If-Match`` compares against."""
    row.revision_number = (row.revision_number or 0) + 1
    row.updated_at = types.utcnow()


def check_revision(row: models.Standard, if_match: str | None, kind: str) -> None:
    """``If-Match: revision_number=N`` makes an update conditional on nobody having changed the resource."""
    if not if_match:
        return
    for part in if_match.split(","):
        part = part.strip()
        if not part.startswith("revision_number="):
            raise errors.bad_request("InvalidInput", f"If-Match must be 'revision_number=<n>', not {part!r}.")
        try:
            wanted = int(part.split("=", 1)[1])
        except ValueError:
            raise errors.bad_request("InvalidInput", f"If-Match revision {part!r} is not a number.") from None
        if wanted != row.revision_number:
            raise errors.exceptions.PreconditionFailed(
                f"Constrained to {kind} revision {wanted}, but it is at {row.revision_number}: "
                f"someone changed it; fetch it again and retry.", "RevisionNumberConstraintFailed")


def tags_of(session: orm.Session, ids: Iterable[str]) -> dict[str, list[str]]:
    ids = list(ids)
    out: dict[str, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    for chunk in range(0, len(ids), 500):
        for rid, tag in session.execute(sa.select(models.Tag.resource_id, models.Tag.tag)
                                        .where(models.Tag.resource_id.in_(ids[chunk:chunk + 500]))):
            out[rid].append(tag)
    return out


def body_of(body: Any, member: str) -> dict[str, Any]:
    """The resource object inside ``{"<member>": {...}}``."""
    if not isinstance(body, dict) or not isinstance(body.get(member), dict):
        raise errors.bad_request("HTTPBadRequest", f"Resource body required: send {{\"{member}\": {{...}}}}.")
    return dict(body[member])


def reject_unknown(attrs: Mapping[str, Any], allowed: Iterable[str], member: str) -> None:
    unknown = sorted(set(attrs) - set(allowed))
    if unknown:
        raise errors.bad_request("HTTPBadRequest", f"Unrecognized attribute(s) '{', '.join(unknown)}' for {member}.")


def reject_readonly(attrs: Mapping[str, Any], readonly: Iterable[str], member: str) -> None:
    fixed = sorted(set(attrs) & set(readonly))
    if fixed:
        raise errors.bad_request("HTTPBadRequest",
                                 f"Cannot update read-only attribute(s) {', '.join(fixed)} of {member}.")


def as_bool(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise errors.invalid(f"'{value}' cannot be converted to boolean for {name}.")


def as_str(value: Any, name: str, max_len: int = 255) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.invalid(f"'{value}' is not a valid string for {name}.")
    if len(value) > max_len:
        raise errors.invalid(f"'{value[:40]}...' exceeds maximum length of {max_len} for {name}.")
    return value


def as_int(value: Any, name: str, low: int | None = None, high: int | None = None) -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError  # True is no 1, and 22.5 no port: int() would quietly store 1 and 22
        number = int(value)
    except (TypeError, ValueError):
        raise errors.invalid(f"'{value}' is not an integer for {name}.") from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise errors.invalid(f"{name} {number} is outside the range {low}..{high}.")
    return number


def as_list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise errors.invalid(f"'{value}' is not a list for {name}.")
    return value


def as_ids(value: Any, name: str) -> list[str]:
    """A list of resource ids (strings); 400 naming ``name`` for anything else."""
    items = as_list(value, name)
    bad = [item for item in items if not isinstance(item, str) or not item or len(item) > 255]
    if bad:
        raise errors.invalid(f"'{bad[0]}' is not a valid id in {name}.")
    return items


def owner_for_create(caller: Caller, attrs: dict[str, Any]) -> str:
    """The project a new resource belongs to: the caller's, or any project when an admin says so."""
    project = attrs.pop("project_id", None)
    tenant = attrs.pop("tenant_id", None)
    if project and tenant and project != tenant:
        raise errors.invalid("project_id and tenant_id do not match.")
    wanted = project or tenant or caller.project_id
    if wanted != caller.project_id and not caller.is_admin:
        raise errors.not_authorized("create with another project_id")
    if not wanted:
        raise errors.invalid("project_id is required: the caller's token has no project scope.")
    return str(wanted)


def apply_standard(row: models.Standard, attrs: dict[str, Any], member: str) -> None:
    for name in ("name", "description"):
        if name in attrs:
            setattr(row, name, as_str(attrs.pop(name), f"{member} {name}"))


class NetworkCoreHandle(Protocol):
    """The network core as each collection sees it (``facade.NetworkCore`` is the one implementation).

    Declared here so that the collections, which the facade builds, need not
    import the facade: that would be an import circle. Sibling collections are
    reached as ``Any`` for the same reason.
    """

    conf: cfg.ConfigOpts
    db: Database
    quotas: Any
    agents: Any
    networks: Any
    subnets: Any
    subnetpools: Any
    ports: Any
    security_groups: Any
    address_scopes: Any
    qos_policies: Any
    rbac_policies: Any

    def collection(self, name: str) -> Any: ...

    def internal_caller(self) -> Caller: ...

    def notify(self, event: str, payload: Mapping[str, Any]) -> None: ...
