"""Flavors: sizes servers are booted with, their extra specs, and who may use private ones."""

from __future__ import annotations

import builtins
import re
import uuid
from typing import Any

import sqlalchemy as sa

from nubis.common import exceptions
from nubis.common.context import RequestContext
from nubis.common.db.engine import Database
from nubis.compute.core import extra_specs
from nubis.compute.db.models import Flavor, FlavorExtraSpec, FlavorProject

_SPEC_KEY = re.compile(r"^[\w.:\- ]{1,255}$")
# The database columns are 32-bit signed integers (Nova's limit too).
MAX_INT = 2**31 - 1

# The strings Nova's boolean parameters take (its parameter_types.boolean), lower-cased.
_TRUE = frozenset({"true", "1", "on", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "off", "no", "n", "f"})


def as_dict(f: Flavor) -> dict[str, Any]:
    return {"id": f.flavorid, "name": f.name, "vcpus": f.vcpus, "ram": f.memory_mb, "disk": f.root_gb,
            "OS-FLV-EXT-DATA:ephemeral": f.ephemeral_gb, "swap": f.swap or "", "rxtx_factor": f.rxtx_factor,
            "os-flavor-access:is_public": f.is_public, "OS-FLV-DISABLED:disabled": False,
            "description": f.description, "extra_specs": {s.key: s.value for s in f.extra_specs}}


def snapshot(f: Flavor) -> dict[str, Any]:
    """The flavor as an instance keeps it: later changes to the flavor do not change booted servers."""
    return {"flavorid": f.flavorid, "name": f.name, "vcpus": f.vcpus, "memory_mb": f.memory_mb,
            "root_gb": f.root_gb, "ephemeral_gb": f.ephemeral_gb, "swap": f.swap,
            "extra_specs": {s.key: s.value for s in f.extra_specs}}


def _positive_int(body: dict[str, Any], name: str, minimum: int) -> int:
    value = body.get(name, minimum if name != "ram" and name != "vcpus" else None)
    if value == "" and name == "swap":
        return 0
    try:
        number = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise exceptions.BadRequest(f"Invalid input for field/attribute {name}: {value!r} is not an integer.") from None
    if isinstance(value, float) or isinstance(value, bool) or not minimum <= number <= MAX_INT:
        raise exceptions.BadRequest(f"Invalid input for field/attribute {name}: it must be an integer from {minimum} "
                                    f"to {MAX_INT}.")
    return number


class FlavorStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def _visible(self, ctx: RequestContext, as_admin: bool) -> Any:
        if as_admin:
            return sa.true()
        shared = sa.select(FlavorProject.flavor_id).where(FlavorProject.project_id == ctx.project_id)
        return sa.or_(Flavor.is_public.is_(True), Flavor.id.in_(shared))

    def get(self, ctx: RequestContext, flavorid: str) -> dict[str, Any]:
        """The flavor (and its ``_snapshot`` for instances) if the caller may see it; 404 otherwise."""
        with self.db.reader() as s:
            f = s.scalar(sa.select(Flavor).where(Flavor.flavorid == flavorid, self._visible(ctx, ctx.is_admin)))
            if f is None:
                raise exceptions.NotFound(f"Flavor {flavorid} could not be found.")
            return {**as_dict(f), "_snapshot": snapshot(f)}

    def list(self, ctx: RequestContext, params: dict[str, str], is_public: bool | None = True) -> list[dict[str, Any]]:
        """Flavors by ``params`` (minRam, minDisk, sort, marker, limit).

        An admin chooses public (``is_public`` True), private (False) or all (None) flavors; anyone else sees the
        public flavors and the private ones their project was given, whatever ``is_public`` says (as Nova).
        """
        q = sa.select(Flavor)
        if not ctx.is_admin:
            q = q.where(self._visible(ctx, False))
        elif is_public is not None:
            q = q.where(Flavor.is_public.is_(is_public))
        for param, column in (("minRam", Flavor.memory_mb), ("minDisk", Flavor.root_gb)):
            if params.get(param):
                if not params[param].isdigit():
                    raise exceptions.BadRequest(f"Invalid {param} {params[param]!r}: it must be a non-negative integer.")
                q = q.where(column >= int(params[param]))
        sort_key = {"flavorid": Flavor.flavorid, "name": Flavor.name, "memory_mb": Flavor.memory_mb,
                    "vcpus": Flavor.vcpus, "root_gb": Flavor.root_gb, "id": Flavor.flavorid}.get(
            params.get("sort_key", "flavorid"))
        if sort_key is None:
            raise exceptions.BadRequest(f"Invalid sort_key {params['sort_key']!r}.")
        direction = params.get("sort_dir", "asc")
        if direction not in ("asc", "desc"):
            raise exceptions.BadRequest(f"Invalid sort_dir {direction!r}: use asc or desc.")
        q = q.order_by(sort_key.desc() if direction == "desc" else sort_key.asc(), Flavor.id)
        with self.db.reader() as s:
            rows = [as_dict(f) for f in s.scalars(q)]
        marker = params.get("marker")
        if marker:
            ids = [r["id"] for r in rows]
            if marker not in ids:
                raise exceptions.BadRequest(f"marker [{marker}] not found")
            rows = rows[ids.index(marker) + 1:]
        limit = params.get("limit")
        if limit:
            if not limit.isdigit():
                raise exceptions.BadRequest(f"Invalid limit {limit!r}: it must be a non-negative integer.")
            rows = rows[: int(limit)]
        return rows

    def create(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or not isinstance(body.get("flavor"), dict):
            raise exceptions.BadRequest("The request body must be {\"flavor\": {...}}.")
        spec = body["flavor"]
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise exceptions.BadRequest("Invalid input for field/attribute name: a non-empty string is required.")
        flavorid = spec.get("id")
        if isinstance(flavorid, int | float) and not isinstance(flavorid, bool):
            flavorid = str(flavorid)  # Nova takes a JSON number as the id and keeps it as a string
        flavorid = flavorid or str(uuid.uuid4())
        if not isinstance(flavorid, str) or len(flavorid) > 255:
            raise exceptions.BadRequest("Invalid input for field/attribute id.")
        is_public = spec.get("os-flavor-access:is_public", True)
        if isinstance(is_public, str) and is_public.lower() in _TRUE | _FALSE:
            is_public = is_public.lower() in _TRUE  # Nova's boolean: "True", "yes", "on", "1", ... as JSON strings
        if not isinstance(is_public, bool):
            raise exceptions.BadRequest("Invalid input for field/attribute os-flavor-access:is_public: use true or false.")
        row = Flavor(flavorid=flavorid, name=name.strip(), vcpus=_positive_int(spec, "vcpus", 1),
                     memory_mb=_positive_int(spec, "ram", 1), root_gb=_positive_int(spec, "disk", 0),
                     ephemeral_gb=_positive_int(spec, "OS-FLV-EXT-DATA:ephemeral", 0),
                     swap=_positive_int(spec, "swap", 0), rxtx_factor=float(spec.get("rxtx_factor", 1.0)),
                     is_public=is_public, description=spec.get("description"))
        with self.db.writer() as s:
            clash = s.scalar(sa.select(Flavor).where(sa.or_(Flavor.name == row.name, Flavor.flavorid == flavorid)))
            if clash is not None:
                what = "name" if clash.name == row.name else "ID"
                value = row.name if what == "name" else flavorid
                raise exceptions.Conflict(f"Flavor with {what} {value} already exists.")
            s.add(row)
            s.flush()
            s.refresh(row)
            return as_dict(row)

    def update_description(self, flavorid: str, description: str | None) -> dict[str, Any]:
        """Set a flavor's description (Nova 2.55) and return the flavor; NotFound if there is no such flavor."""
        with self.db.writer() as s:
            f = s.scalar(sa.select(Flavor).where(Flavor.flavorid == flavorid))
            if f is None:
                raise exceptions.NotFound(f"Flavor {flavorid} could not be found.")
            f.description = description
            s.flush()
            s.refresh(f)
            return as_dict(f)

    def delete(self, flavorid: str) -> None:
        with self.db.writer() as s:
            f = s.scalar(sa.select(Flavor).where(Flavor.flavorid == flavorid))
            if f is None:
                raise exceptions.NotFound(f"Flavor {flavorid} could not be found.")
            s.delete(f)

    def set_extra_specs(self, flavorid: str, specs: Any) -> dict[str, str]:
        if not isinstance(specs, dict) or not all(isinstance(v, str | int | float) for v in specs.values()):
            raise exceptions.BadRequest("extra_specs must be an object of string values.")
        for key in specs:
            if not _SPEC_KEY.match(key):
                raise exceptions.BadRequest(f"Invalid extra spec key {key!r}: letters, digits, '_.:- ' only.")
            if len(key) > 255 or len(str(specs[key])) > 255:
                raise exceptions.BadRequest(f"Extra spec {key[:255]!r}: keys and values are at most 255 characters.")
            extra_specs.check(key, str(specs[key]))
        with self.db.writer() as s:
            f = s.scalar(sa.select(Flavor).where(Flavor.flavorid == flavorid))
            if f is None:
                raise exceptions.NotFound(f"Flavor {flavorid} could not be found.")
            current = {e.key: e for e in f.extra_specs}
            for key, value in specs.items():
                if key in current:
                    current[key].value = str(value)
                else:
                    f.extra_specs.append(FlavorExtraSpec(key=key, value=str(value)))
            s.flush()
            return {e.key: e.value for e in f.extra_specs}

    def get_extra_specs(self, ctx: RequestContext, flavorid: str) -> dict[str, str]:
        return self.get(ctx, flavorid)["extra_specs"]

    def delete_extra_spec(self, flavorid: str, key: str) -> None:
        with self.db.writer() as s:
            row = s.scalar(sa.select(FlavorExtraSpec).join(Flavor).where(
                Flavor.flavorid == flavorid, FlavorExtraSpec.key == key))
            if row is None:
                raise exceptions.NotFound(f"Flavor {flavorid} has no extra spec {key}.")
            s.delete(row)

    def access(self, flavorid: str, project_id: str | None = None, add: bool | None = None) -> builtins.list[dict[str, str]]:
        """List (and with ``add`` set, first grant or revoke) the projects that may use a private flavor."""
        with self.db.writer() as s:
            f = s.scalar(sa.select(Flavor).where(Flavor.flavorid == flavorid))
            if f is None:
                raise exceptions.NotFound(f"Flavor {flavorid} could not be found.")
            if add is None and f.is_public:
                raise exceptions.NotFound("Access list not available for public flavors.")
            if add is not None:
                if f.is_public:
                    raise exceptions.Conflict(f"Flavor {flavorid} is public: access lists are for private flavors.")
                present = {p.project_id: p for p in f.projects}
                if add and project_id in present:
                    raise exceptions.Conflict(f"Flavor access already exists for flavor {flavorid} "
                                              f"and project {project_id} combination.")
                if not add and project_id not in present:
                    raise exceptions.NotFound(f"Flavor access not found for {flavorid} / {project_id} combination.")
                if add:
                    f.projects.append(FlavorProject(project_id=project_id))
                else:
                    f.projects.remove(present[project_id])  # type: ignore[index]
                s.flush()
            return [{"flavor_id": flavorid, "tenant_id": p.project_id} for p in f.projects]
